"""Expected calibration error from per-bin sums: exact, O(bins) memory, mergeable.

Confidences in [0, 1] fall into `n_bins` equal-width bins (right-closed: a confidence of exactly
`k/n_bins` lands in bin `k-1`, 0 lands in the first bin, matching torchmetrics). Each bin keeps
its count, the sum of confidences and the number correct, which is all ECE and MCE need.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class CalibrationResult:
    ece: float
    mce: float
    n_bins: int
    count: np.ndarray
    mean_confidence: np.ndarray
    accuracy: np.ndarray

    @property
    def total(self) -> int:
        return int(self.count.sum())

    def to_dict(self) -> dict[str, Any]:
        edges = np.linspace(0.0, 1.0, self.n_bins + 1)
        bins = [
            {
                "lower": float(edges[i]),
                "upper": float(edges[i + 1]),
                "count": int(self.count[i]),
                "mean_confidence": None if self.count[i] == 0 else float(self.mean_confidence[i]),
                "accuracy": None if self.count[i] == 0 else float(self.accuracy[i]),
                "gap": None
                if self.count[i] == 0
                else float(self.mean_confidence[i] - self.accuracy[i]),
            }
            for i in range(self.n_bins)
        ]
        return {
            "ece": self.ece,
            "mce": self.mce,
            "n_bins": self.n_bins,
            "total": self.total,
            "bins": bins,
        }


class CalibrationBins:
    """Accumulate `update(confidence, correct)` over batches, then `compute()`."""

    def __init__(self, n_bins: int = 15) -> None:
        if n_bins < 1:
            raise ValueError("n_bins must be at least 1")
        self.n_bins = n_bins
        self.count = np.zeros(n_bins, dtype=np.int64)
        self.confidence_sum = np.zeros(n_bins, dtype=np.float64)
        self.correct = np.zeros(n_bins, dtype=np.int64)

    def bin_index(self, confidence: np.ndarray) -> np.ndarray:
        return np.clip(np.ceil(confidence * self.n_bins).astype(np.int64) - 1, 0, self.n_bins - 1)

    def update(self, confidence: Any, correct: Any) -> CalibrationBins:
        """Add confidences (floats in [0, 1]) and whether each prediction was right."""
        confidence = to_numpy(confidence).astype(np.float64).ravel()
        correct = to_numpy(correct).astype(bool).ravel()
        if confidence.shape != correct.shape:
            raise ValueError(f"{confidence.size} confidences but {correct.size} correctness flags")
        if confidence.size and (confidence.min() < 0 or confidence.max() > 1):
            raise ValueError("confidences must lie in [0, 1]")
        idx = self.bin_index(confidence)
        self.count += np.bincount(idx, minlength=self.n_bins)
        self.confidence_sum += np.bincount(idx, weights=confidence, minlength=self.n_bins)
        self.correct += np.bincount(idx, weights=correct, minlength=self.n_bins).astype(np.int64)
        return self

    def merge(self, other: CalibrationBins) -> CalibrationBins:
        if other.n_bins != self.n_bins:
            raise ValueError(f"cannot merge {other.n_bins} bins into {self.n_bins}")
        self.count += other.count
        self.confidence_sum += other.confidence_sum
        self.correct += other.correct
        return self

    def state(self) -> dict[str, list]:
        """Plain lists, to save a shard and `from_state` it back for merging."""
        return {
            "count": self.count.tolist(),
            "confidence_sum": self.confidence_sum.tolist(),
            "correct": self.correct.tolist(),
        }

    @classmethod
    def from_state(cls, state: dict[str, list]) -> CalibrationBins:
        bins = cls(len(state["count"]))
        bins.count[:] = state["count"]
        bins.confidence_sum[:] = state["confidence_sum"]
        bins.correct[:] = state["correct"]
        return bins

    def compute(self) -> CalibrationResult:
        total = self.count.sum()
        filled = self.count > 0
        mean_conf = np.divide(
            self.confidence_sum, self.count, out=np.zeros(self.n_bins), where=filled
        )
        accuracy = np.divide(self.correct, self.count, out=np.zeros(self.n_bins), where=filled)
        gaps = np.abs(mean_conf - accuracy)
        ece = float((self.count * gaps).sum() / total) if total else float("nan")
        mce = float(gaps[filled].max()) if filled.any() else float("nan")
        return CalibrationResult(ece, mce, self.n_bins, self.count.copy(), mean_conf, accuracy)


def to_numpy(x: Any) -> np.ndarray:
    """A tensor (any device) or array-like as a NumPy array."""
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)
