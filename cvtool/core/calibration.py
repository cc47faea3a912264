"""Expected calibration error from per-bin sums: exact, O(bins) memory, mergeable.

Confidences in [0, 1] fall into `n_bins` equal-width bins (right-closed: a confidence of exactly
`k/n_bins` lands in bin `k-1`, 0 lands in the first bin, matching torchmetrics). Each bin keeps
its count, the sum of confidences and the number correct, which is all ECE and MCE need.

The adaptive (equal-mass) ECE puts the same number of predictions in each bin. A stream cannot
be sorted, so the confidences also go into a fixed fine grid (`FINE_EDGES`: cells 0.001 wide
below 0.999, then logarithmic in 1 - confidence down to 3e-8, where float32 confidences stop
being distinct) with the same per-cell sums. The equal-mass bins are whole runs of cells: the
cell whose predictions rank from `r` on (in ascending confidence) joins bin
`floor(r * n_bins / total)`. With at most one prediction per cell this is the sort-based split
of the literature; predictions that share a cell (ties and near-ties) stay in one bin, where a
sort would cut them arbitrarily. The sums are exact, so the ECE of the bins formed is exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def _fine_edges() -> np.ndarray:
    uniform = np.arange(1, 1000) / 1000  # 0.001 ... 0.999
    tail = 1.0 - 10.0 ** -(3.0 + np.arange(1, 451) / 100)  # 1 - 10^-3.01 ... 1 - 10^-7.5
    return np.concatenate([uniform, tail, [1.0]])


FINE_EDGES = _fine_edges()  # upper (closed) edge of each fine cell


@dataclass
class CalibrationResult:
    """Equal-width bins (`count`, `mean_confidence`, `accuracy` per bin) with ECE and MCE, and
    the equal-mass bins (`adaptive`: `lower`, `upper`, `count`, `mean_confidence`, `accuracy`
    arrays) with the adaptive ECE."""

    ece: float
    mce: float
    n_bins: int
    count: np.ndarray
    mean_confidence: np.ndarray
    accuracy: np.ndarray
    adaptive_ece: float = float("nan")
    adaptive: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return int(self.count.sum())

    def summary(self) -> dict[str, float]:
        return {"ece": self.ece, "mce": self.mce, "adaptive_ece": self.adaptive_ece}

    def to_dict(self) -> dict[str, Any]:
        edges = np.linspace(0.0, 1.0, self.n_bins + 1)
        bins = [
            {"lower": float(edges[i]), "upper": float(edges[i + 1]), **self._bin(i)}
            for i in range(self.n_bins)
        ]
        a = self.adaptive
        adaptive_bins = [
            {
                "lower": float(a["lower"][i]),
                "upper": float(a["upper"][i]),
                "count": int(a["count"][i]),
                "mean_confidence": float(a["mean_confidence"][i]),
                "accuracy": float(a["accuracy"][i]),
            }
            for i in range(len(a.get("count", ())))
        ]
        return {
            **self.summary(),
            "n_bins": self.n_bins,
            "total": self.total,
            "bins": bins,
            "adaptive_bins": adaptive_bins,
        }

    def _bin(self, i: int) -> dict[str, Any]:
        if self.count[i] == 0:
            return {"count": 0, "mean_confidence": None, "accuracy": None, "gap": None}
        conf, acc = float(self.mean_confidence[i]), float(self.accuracy[i])
        return {
            "count": int(self.count[i]),
            "mean_confidence": conf,
            "accuracy": acc,
            "gap": conf - acc,
        }


def binned_gaps(
    count: np.ndarray, confidence_sum: np.ndarray, correct: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per bin (along the last axis): mean confidence, accuracy and |gap| (0 where empty)."""
    filled = count > 0
    zeros = np.zeros(np.shape(count))
    mean_conf = np.divide(confidence_sum, count, out=zeros.copy(), where=filled)
    accuracy = np.divide(correct, count, out=zeros.copy(), where=filled)
    return mean_conf, accuracy, np.abs(mean_conf - accuracy)


def equal_width_index(confidence: Any, n_bins: int) -> Any:
    """Right-closed equal-width bin of each confidence (NumPy or torch, float64 for exact
    edges): `k/n_bins` lands in bin `k-1`, 0 in bin 0."""
    scaled = confidence * n_bins
    index = (scaled.ceil() if hasattr(scaled, "ceil") else np.ceil(scaled)) - 1
    return index.clip(0, n_bins - 1)


class CalibrationBins:
    """Accumulate `update(confidence, correct)` over batches, then `compute()`."""

    def __init__(self, n_bins: int = 15) -> None:
        if n_bins < 1:
            raise ValueError("n_bins must be at least 1")
        self.n_bins = n_bins
        self.count = np.zeros(n_bins, dtype=np.int64)
        self.confidence_sum = np.zeros(n_bins, dtype=np.float64)
        self.correct = np.zeros(n_bins, dtype=np.int64)
        cells = len(FINE_EDGES)
        self.fine_count = np.zeros(cells, dtype=np.int64)
        self.fine_confidence_sum = np.zeros(cells, dtype=np.float64)
        self.fine_correct = np.zeros(cells, dtype=np.int64)

    def bin_index(self, confidence: np.ndarray) -> np.ndarray:
        return equal_width_index(confidence, self.n_bins).astype(np.int64)

    def update(self, confidence: Any, correct: Any) -> CalibrationBins:
        """Add confidences (floats in [0, 1]) and whether each prediction was right."""
        confidence = to_numpy(confidence).astype(np.float64).ravel()
        correct = to_numpy(correct).astype(bool).ravel()
        if confidence.shape != correct.shape:
            raise ValueError(f"{confidence.size} confidences but {correct.size} correctness flags")
        if confidence.size and (confidence.min() < 0 or confidence.max() > 1):
            raise ValueError("confidences must lie in [0, 1]")
        for index, count, conf_sum, right, size in (
            (
                self.bin_index(confidence),
                self.count,
                self.confidence_sum,
                self.correct,
                self.n_bins,
            ),
            (
                np.searchsorted(FINE_EDGES, confidence, side="left"),
                self.fine_count,
                self.fine_confidence_sum,
                self.fine_correct,
                len(FINE_EDGES),
            ),
        ):
            count += np.bincount(index, minlength=size)
            conf_sum += np.bincount(index, weights=confidence, minlength=size)
            right += np.bincount(index, weights=correct, minlength=size).astype(np.int64)
        return self

    def merge(self, other: CalibrationBins) -> CalibrationBins:
        if other.n_bins != self.n_bins:
            raise ValueError(f"cannot merge {other.n_bins} bins into {self.n_bins}")
        for name in STATE_KEYS:
            getattr(self, name)[:] += getattr(other, name)
        return self

    def state(self) -> dict[str, list]:
        """Plain lists, to save a shard and `from_state` it back for merging."""
        return {name: getattr(self, name).tolist() for name in STATE_KEYS}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> CalibrationBins:
        bins = cls(len(state["count"]))
        for name in STATE_KEYS:
            getattr(bins, name)[:] = state[name]
        return bins

    def compute(self) -> CalibrationResult:
        total = self.count.sum()
        mean_conf, accuracy, gaps = binned_gaps(self.count, self.confidence_sum, self.correct)
        filled = self.count > 0
        ece = float((self.count * gaps).sum() / total) if total else float("nan")
        mce = float(gaps[filled].max()) if filled.any() else float("nan")
        adaptive_ece, adaptive = self._adaptive()
        return CalibrationResult(
            ece, mce, self.n_bins, self.count.copy(), mean_conf, accuracy, adaptive_ece, adaptive
        )

    def _adaptive(self) -> tuple[float, dict[str, np.ndarray]]:
        """Equal-mass bins from the fine cells (see the module docstring)."""
        total = int(self.fine_count.sum())
        if total == 0:
            return float("nan"), {}
        before = np.cumsum(self.fine_count) - self.fine_count
        member = np.minimum(before * self.n_bins // total, self.n_bins - 1)
        filled = self.fine_count > 0
        member, cells = member[filled], np.flatnonzero(filled)
        count = np.bincount(member, weights=self.fine_count[filled], minlength=self.n_bins)
        conf_sum = np.bincount(
            member, weights=self.fine_confidence_sum[filled], minlength=self.n_bins
        )
        correct = np.bincount(member, weights=self.fine_correct[filled], minlength=self.n_bins)
        used = count > 0
        count, conf_sum, correct = count[used], conf_sum[used], correct[used]
        lower_edges = np.concatenate([[0.0], FINE_EDGES[:-1]])
        firsts = np.flatnonzero(np.diff(member, prepend=-1))
        lasts = np.append(firsts[1:], len(member)) - 1
        mean_conf, accuracy, gaps = binned_gaps(count, conf_sum, correct)
        adaptive = {
            "lower": lower_edges[cells[firsts]],
            "upper": FINE_EDGES[cells[lasts]],
            "count": count.astype(np.int64),
            "mean_confidence": mean_conf,
            "accuracy": accuracy,
        }
        return float((count * gaps).sum() / total), adaptive


STATE_KEYS = (
    "count",
    "confidence_sum",
    "correct",
    "fine_count",
    "fine_confidence_sum",
    "fine_correct",
)


def to_numpy(x: Any) -> np.ndarray:
    """A tensor (any device) or array-like as a NumPy array."""
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)
