"""Streaming image-classification metrics: confusion matrix, per-class and macro scores, ECE.

Rows of the confusion matrix are ground truth, columns predictions (sklearn's convention);
counts accumulate in int64 with one `bincount` per batch, so memory is O(classes²) whatever the
number of images. Calibration uses the top-1 softmax probability (`CalibrationBins`).

>>> metrics = ClassificationMetrics(num_classes=10).update(probs, labels)   # per batch
>>> report = metrics.compute(); report.accuracy, report.macro_f1, report.calibration.ece
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cvtool.core.calibration import CalibrationBins, CalibrationResult, to_numpy
from cvtool.core.confusion import class_scores


@dataclass
class ClassificationReport:
    """Scores of one evaluation. Per-class arrays follow sklearn with `zero_division=0`; the
    macro means are over the classes present in the labels or the predictions (sklearn's
    default label set), and `present` marks those classes."""

    confusion: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    present: np.ndarray
    accuracy: float
    macro_precision: float
    macro_recall: float
    macro_f1: float
    calibration: CalibrationResult

    @property
    def images(self) -> int:
        return int(self.support.sum())

    def headline(self) -> dict[str, float]:
        return {
            "accuracy": self.accuracy,
            "macro_precision": self.macro_precision,
            "macro_recall": self.macro_recall,
            "macro_f1": self.macro_f1,
            "ece": self.calibration.ece,
            "mce": self.calibration.mce,
        }


def _macro(values: np.ndarray, present: np.ndarray) -> float:
    return float(values[present].mean()) if present.any() else float("nan")


def scores_from_confusion(
    confusion: np.ndarray, calibration: CalibrationResult
) -> ClassificationReport:
    """Per-class precision, recall, F1 and support, accuracy and macro means of a matrix."""
    c = class_scores(confusion)
    return ClassificationReport(
        confusion=c.confusion,
        precision=c.precision,
        recall=c.recall,
        f1=c.f1,
        support=c.support,
        present=c.present,
        accuracy=c.accuracy,
        macro_precision=_macro(c.precision, c.present),
        macro_recall=_macro(c.recall, c.present),
        macro_f1=_macro(c.f1, c.present),
        calibration=calibration,
    )


class ClassificationMetrics:
    """Accumulate `update(probs, labels)` over batches, then `compute()`."""

    def __init__(self, num_classes: int, n_bins: int = 15) -> None:
        if num_classes < 1:
            raise ValueError("num_classes must be at least 1")
        self.num_classes = num_classes
        self.confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
        self.calibration = CalibrationBins(n_bins)

    def update(self, probs: Any, labels: Any) -> ClassificationMetrics:
        """Add class probabilities `(B, C)` (rows summing to 1) and integer labels `(B,)`."""
        probs = to_numpy(probs)
        labels = to_numpy(labels).astype(np.int64, copy=False).ravel()
        n = self.num_classes
        if probs.ndim != 2 or probs.shape != (labels.size, n):
            raise ValueError(
                f"probabilities of shape {probs.shape} do not match {labels.size} labels of "
                f"{n} classes"
            )
        if labels.size and (labels.min() < 0 or labels.max() >= n):
            raise ValueError(f"label ids must lie in 0..{n - 1}")
        pred = probs.argmax(axis=1)
        confidence = probs[np.arange(labels.size), pred].astype(np.float64)
        self.confusion += np.bincount(labels * n + pred, minlength=n * n).reshape(n, n)
        self.calibration.update(np.clip(confidence, 0.0, 1.0), pred == labels)
        return self

    def compute(self) -> ClassificationReport:
        return scores_from_confusion(self.confusion, self.calibration.compute())
