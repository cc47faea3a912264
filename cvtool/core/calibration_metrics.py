"""Calibration of class probabilities, streamed: top-label ECE (equal-width and equal-mass),
MCE, classwise ECE, negative log-likelihood and Brier score.

`CalibrationMetrics.update(probs, labels)` takes a batch of probability rows `(N, C)` (a torch
tensor on any device, or an array) with integer labels; memory is O(classes x bins) whatever the
number of samples, and shards merge to the numbers of a single pass.

- ECE/MCE/adaptive ECE: the top-1 probability against whether the top-1 class is right
  (`CalibrationBins`).
- Classwise ECE (Kull et al., 2019): for each class c, the equal-width ECE of `p_c` against
  `label == c` over all samples; the mean over classes. Per class it is `class_ece[c]`.
- NLL: the mean of `-log p_label` (a probability that underflowed to 0 in float32 counts as
  float32's smallest normal number, ~1.2e-38, so one such sample adds ~87.3).
- Brier score: the mean over samples of `sum_c (p_c - [label == c])^2` (0 to 2), sklearn's
  multiclass `brier_score_loss`.

>>> metrics = CalibrationMetrics(num_classes=3).update(probs, labels)   # per batch
>>> report = metrics.compute(); report.summary()["nll"]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cvtool.core.calibration import (
    CalibrationBins,
    CalibrationResult,
    binned_gaps,
    equal_width_index,
)

FLOAT32_TINY = 1.1754943508222875e-38  # the smallest normal float32
SUMMARY_KEYS = ("ece", "mce", "adaptive_ece", "classwise_ece", "nll", "brier")


@dataclass
class CalibrationReport:
    """What `CalibrationMetrics.compute()` returns: the top-label bins, the per-class ECE, NLL
    and Brier score of `total` samples."""

    top: CalibrationResult
    class_ece: np.ndarray
    nll: float
    brier: float

    @property
    def total(self) -> int:
        return self.top.total

    @property
    def accuracy(self) -> float:
        """The fraction of samples whose top-1 class is right."""
        top = self.top
        return float((top.count * top.accuracy).sum() / top.total) if top.total else float("nan")

    @property
    def ece(self) -> float:
        return self.top.ece

    @property
    def mce(self) -> float:
        return self.top.mce

    @property
    def classwise_ece(self) -> float:
        return float(self.class_ece.mean()) if self.class_ece.size else float("nan")

    def summary(self) -> dict[str, float]:
        """The six numbers, keyed as in `SUMMARY_KEYS`."""
        return {
            **self.top.summary(),
            "classwise_ece": self.classwise_ece,
            "nll": self.nll,
            "brier": self.brier,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.top.to_dict(),
            **self.summary(),
            "class_ece": [float(v) for v in self.class_ece],
        }


class CalibrationMetrics:
    """Accumulate `update(probs, labels)` over batches, then `compute()`."""

    def __init__(self, num_classes: int, n_bins: int = 15) -> None:
        if num_classes < 1:
            raise ValueError("num_classes must be at least 1")
        self.num_classes = num_classes
        self.top = CalibrationBins(n_bins)
        shape = (num_classes, n_bins)
        self.class_count = np.zeros(shape, dtype=np.int64)
        self.class_confidence_sum = np.zeros(shape, dtype=np.float64)
        self.class_positive = np.zeros(shape, dtype=np.int64)
        self.nll_sum = 0.0
        self.brier_sum = 0.0

    @property
    def n_bins(self) -> int:
        return self.top.n_bins

    def update(self, probs: Any, labels: Any) -> CalibrationMetrics:
        """Add probabilities `(N, C)` (rows summing to 1) and labels `(N,)` in `0..C-1`."""
        import torch

        probs = torch.as_tensor(probs)
        labels = torch.as_tensor(labels, device=probs.device).reshape(-1).long()
        n, c = labels.numel(), self.num_classes
        if probs.dim() != 2 or tuple(probs.shape) != (n, c):
            raise ValueError(
                f"probabilities of shape {tuple(probs.shape)} do not match {n} labels of "
                f"{c} classes"
            )
        if n == 0:
            return self
        if int(labels.min()) < 0 or int(labels.max()) >= c:
            raise ValueError(f"label ids must lie in 0..{c - 1}")
        p = probs.double()
        confidence, predicted = p.max(dim=1)
        p_label = p.gather(1, labels[:, None]).squeeze(1)
        self.nll_sum += float(-p_label.clamp(min=FLOAT32_TINY).log().sum())
        self.brier_sum += float((p.square().sum(dim=1) - 2 * p_label + 1).sum())
        self.top.update(confidence.clamp(0.0, 1.0), predicted == labels)
        nb = self.n_bins
        index = equal_width_index(p, nb).long()
        index += torch.arange(c, device=p.device) * nb  # (N, C): class c's bins from c * nb
        own = index.gather(1, labels[:, None]).reshape(-1)  # each sample is a positive of its label
        index = index.reshape(-1)
        size = c * nb
        for target, values, weights in (
            (self.class_count, index, None),
            (self.class_confidence_sum, index, p.reshape(-1)),
            (self.class_positive, own, None),
        ):
            counts = torch.bincount(values, weights=weights, minlength=size)
            target += counts.cpu().numpy().reshape(c, nb).astype(target.dtype)
        return self

    def merge(self, other: CalibrationMetrics) -> CalibrationMetrics:
        if (other.num_classes, other.n_bins) != (self.num_classes, self.n_bins):
            raise ValueError(
                f"cannot merge calibration of {other.num_classes} classes x {other.n_bins} bins "
                f"into {self.num_classes} x {self.n_bins}"
            )
        self.top.merge(other.top)
        self.class_count += other.class_count
        self.class_confidence_sum += other.class_confidence_sum
        self.class_positive += other.class_positive
        self.nll_sum += other.nll_sum
        self.brier_sum += other.brier_sum
        return self

    def state(self) -> dict[str, np.ndarray]:
        """Arrays to save a shard (e.g. into an `.npz`) and `from_state` it back."""
        return {
            **{k: np.asarray(v) for k, v in self.top.state().items()},
            "class_count": self.class_count,
            "class_confidence_sum": self.class_confidence_sum,
            "class_positive": self.class_positive,
            "sums": np.array([self.nll_sum, self.brier_sum]),
        }

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> CalibrationMetrics:
        num_classes, n_bins = np.shape(state["class_count"])
        metrics = cls(int(num_classes), int(n_bins))
        metrics.top = CalibrationBins.from_state(state)
        metrics.class_count[:] = state["class_count"]
        metrics.class_confidence_sum[:] = state["class_confidence_sum"]
        metrics.class_positive[:] = state["class_positive"]
        metrics.nll_sum, metrics.brier_sum = (float(v) for v in state["sums"])
        return metrics

    def compute(self) -> CalibrationReport:
        top = self.top.compute()
        total = top.total
        _, _, gaps = binned_gaps(self.class_count, self.class_confidence_sum, self.class_positive)
        if total == 0:
            nan = float("nan")
            return CalibrationReport(top, np.full(self.num_classes, nan), nan, nan)
        class_ece = (self.class_count * gaps).sum(axis=1) / total
        return CalibrationReport(top, class_ece, self.nll_sum / total, self.brier_sum / total)
