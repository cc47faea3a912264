"""Evaluation of segmentation models, predicted masks and classifiers: run, score, compare.

>>> outcome = evaluate_checkpoint("runs/unet", split="test")   # writes runs/unet/eval-test
>>> outcome.path, outcome.headline["miou"], outcome.headline["ece"]

A classifier checkpoint goes to `cvtool.evaluate.classify` (headline `accuracy`, `macro_f1`,
`ece`, ...).

`evaluate_predictions` scores index-mask PNGs, `merge_evaluations` joins shard eval dirs and
`compare_evaluations` writes the side-by-side table. Nothing here imports torch at import time.
"""

from cvtool.evaluate.compare import compare_evaluations
from cvtool.evaluate.model import evaluate_checkpoint
from cvtool.evaluate.runner import (
    EvalOutcome,
    EvalSettings,
    evaluate_predictions,
    merge_evaluations,
)

__all__ = [
    "EvalOutcome",
    "EvalSettings",
    "compare_evaluations",
    "evaluate_checkpoint",
    "evaluate_predictions",
    "merge_evaluations",
]
