"""Evaluation of segmentation models and of predicted masks: run, score, report, compare.

`evaluate_checkpoint`, `evaluate_predictions` and `merge_evaluations` write an eval directory
and return an `EvalOutcome`; `compare_evaluations` builds the side-by-side table.
"""
