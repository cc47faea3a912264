"""Streaming image-classification metrics: confusion matrix, per-class and macro scores, ECE.

Rows of the confusion matrix are ground truth, columns predictions (sklearn's convention);
counts accumulate in int64 with one `bincount` per batch, so memory is O(classes²) whatever the
number of images. Calibration (`CalibrationMetrics`: top-1 ECE, MCE, adaptive ECE, classwise ECE,
NLL, Brier score) is of the probabilities given, and of the raw model's when a calibrated model
also passes those (`raw_probs`).

>>> metrics = ClassificationMetrics(num_classes=10).update(probs, labels)   # per batch
>>> report = metrics.compute(); report.accuracy, report.macro_f1, report.calibration.top.ece
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cvtool.core.calibration import to_numpy
from cvtool.core.calibration_metrics import CalibrationMetrics, CalibrationReport
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
    calibration: CalibrationReport
    raw_calibration: CalibrationReport | None = None

    @property
    def images(self) -> int:
        return int(self.support.sum())

    def headline(self) -> dict[str, float]:
        return {
            "accuracy": self.accuracy,
            "macro_precision": self.macro_precision,
            "macro_recall": self.macro_recall,
            "macro_f1": self.macro_f1,
            **{k: self.calibration.summary()[k] for k in ("ece", "mce", "nll", "brier")},
        }


def _macro(values: np.ndarray, present: np.ndarray) -> float:
    return float(values[present].mean()) if present.any() else float("nan")


def scores_from_confusion(
    confusion: np.ndarray,
    calibration: CalibrationReport,
    raw_calibration: CalibrationReport | None = None,
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
        raw_calibration=raw_calibration,
    )


class ClassificationMetrics:
    """Accumulate `update(probs, labels)` over batches, then `compute()`; with `with_raw`,
    `update(probs, labels, raw_probs)`."""

    def __init__(self, num_classes: int, n_bins: int = 15, with_raw: bool = False) -> None:
        if num_classes < 1:
            raise ValueError("num_classes must be at least 1")
        self.num_classes = num_classes
        self.confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
        self.calibration = CalibrationMetrics(num_classes, n_bins)
        self.raw_calibration = CalibrationMetrics(num_classes, n_bins) if with_raw else None

    def update(self, probs: Any, labels: Any, raw_probs: Any = None) -> ClassificationMetrics:
        """Add class probabilities `(B, C)` (rows summing to 1) and integer labels `(B,)`, and
        the raw model's probabilities when tracked."""
        if (self.raw_calibration is not None) != (raw_probs is not None):
            raise ValueError("raw_probs go with metrics made with_raw, and only there")
        self.calibration.update(probs, labels)
        if self.raw_calibration is not None:
            self.raw_calibration.update(raw_probs, labels)
        # the calibration update has checked the shapes and the label range
        labels = to_numpy(labels).astype(np.int64, copy=False).ravel()
        pred = to_numpy(probs).argmax(axis=1)
        n = self.num_classes
        self.confusion += np.bincount(labels * n + pred, minlength=n * n).reshape(n, n)
        return self

    def compute(self) -> ClassificationReport:
        raw = None if self.raw_calibration is None else self.raw_calibration.compute()
        return scores_from_confusion(self.confusion, self.calibration.compute(), raw)
