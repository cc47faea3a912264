"""Streaming evaluation state for semantic segmentation: everything `cvtool evaluate` reports.

One `SegmentationEvaluator` accumulates, batch after batch and in memory independent of the
number of images:

- an int64 confusion matrix (IoU, Dice, precision, recall, accuracies);
- per-class histograms of the softmax score of positive and negative pixels, from which the
  pixel-wise average precision is computed exactly as sklearn's `average_precision_score` would
  on scores rounded down to the histogram's resolution;
- a histogram of per-image IoUs (the mean IoU over the classes in that image's ground truth or
  prediction);
- calibration sums (`CalibrationMetrics`: top-label ECE, MCE and adaptive ECE, per-class
  ECE, NLL, Brier score) of the probabilities, and, for a calibrated model, of the raw model's
  probabilities too.

The state of a shard saves to one `.npz` file and merges with others to the same numbers as a
single pass over all the images.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.artifacts import IGNORE_INDEX, atomic_path
from cvtool.core.calibration_metrics import CalibrationMetrics, CalibrationReport
from cvtool.core.confusion import ConfusionMatrix, SegmentationScores, class_iou
from cvtool.core.errors import CvtoolError

IOU_BINS = 10
SCORE_BINS = 10000
STATE_VERSION = 2


def iou_histogram(values: np.ndarray, n_bins: int = IOU_BINS) -> np.ndarray:
    """Counts of IoUs in `n_bins` equal bins over [0, 1] (an IoU of exactly 1 is in the last)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    return np.histogram(values, bins=n_bins, range=(0.0, 1.0))[0].astype(np.int64)


def per_image_iou(counts: Any) -> np.ndarray:
    """Mean IoU of each image from its confusion counts `(B, n, n)`.

    The mean runs over the classes in the image's ground truth or prediction; an image whose
    pixels are all ignored has NaN.
    """
    iou, present = class_iou(counts)
    n_present = present.sum(axis=1)
    return np.divide(iou.sum(axis=1), n_present, out=np.full(len(iou), np.nan), where=n_present > 0)


def average_precision_from_histograms(positives: np.ndarray, negatives: np.ndarray) -> float:
    """sklearn's average precision (sum over thresholds of recall gain x precision) from score
    histograms, bins in ascending score order. NaN when there are no positives."""
    pos = np.asarray(positives, dtype=np.float64)[::-1]
    neg = np.asarray(negatives, dtype=np.float64)[::-1]
    total = pos.sum()
    if total == 0:
        return float("nan")
    used = (pos + neg) > 0
    tp, fp = np.cumsum(pos)[used], np.cumsum(neg)[used]
    precision = tp / (tp + fp)
    recall_gain = np.diff(tp, prepend=0.0) / total
    return float((recall_gain * precision).sum())


@dataclass
class SegmentationReport:
    """What `SegmentationEvaluator.compute()` returns."""

    scores: SegmentationScores
    average_precision: np.ndarray | None  # per class, NaN where a class has no pixels
    calibration: CalibrationReport | None
    raw_calibration: CalibrationReport | None  # the uncalibrated model's, when calibrated
    class_iou_histogram: np.ndarray
    image_iou_histogram: np.ndarray
    images: int
    images_without_labels: int

    @property
    def mean_ap(self) -> float:
        ap = self.average_precision
        if ap is None or np.isnan(ap).all():
            return float("nan")
        return float(np.nanmean(ap))

    def headline(self) -> dict[str, float]:
        calibration = self.calibration.summary() if self.calibration else {}
        return {
            **self.scores.headline(),
            "mean_ap": self.mean_ap,
            **{k: calibration.get(k, float("nan")) for k in ("ece", "mce", "nll", "brier")},
        }


class SegmentationEvaluator:
    """Accumulate `update(target, probs=...)` or `update(target, pred=...)`, then `compute()`.

    >>> ev = SegmentationEvaluator(num_classes=3)
    >>> ious = ev.update(masks, probs=logits.softmax(1))   # (B, H, W), (B, C, H, W)
    >>> ev.compute().scores.miou

    With probabilities, average precision and calibration are tracked too; with hard
    predictions only (`with_scores=False`), they are not. With `with_raw`, each batch also
    brings the raw model's probabilities (`raw_probs`), whose calibration is tracked beside.
    """

    def __init__(
        self,
        num_classes: int,
        ignore_index: int = IGNORE_INDEX,
        with_scores: bool = True,
        calibration_bins: int = 15,
        score_bins: int = SCORE_BINS,
        with_raw: bool = False,
    ) -> None:
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.with_scores = with_scores
        self.score_bins = score_bins
        self.confusion = ConfusionMatrix(num_classes, ignore_index)
        self.calibration = CalibrationMetrics(num_classes, calibration_bins)
        self.raw_calibration = (
            CalibrationMetrics(num_classes, calibration_bins) if with_raw else None
        )
        # [negative, positive] x class x score bin
        self.score_hist = np.zeros((2, num_classes, score_bins), dtype=np.int64)
        self.image_iou_hist = np.zeros(IOU_BINS, dtype=np.int64)
        self.images = 0
        self.images_without_labels = 0

    def update(
        self, target: Any, probs: Any = None, pred: Any = None, raw_probs: Any = None
    ) -> np.ndarray:
        """Add a batch of label masks `(B, H, W)` with class probabilities `(B, C, H, W)` or
        predicted ids `(B, H, W)` (and the raw model's probabilities, when tracked); return the
        per-image IoUs of the batch."""
        import torch

        if probs is None and pred is None:
            raise ValueError("update needs probs or pred")
        if self.with_scores and probs is None:
            raise ValueError("this evaluator tracks scores: pass probs")
        if (self.raw_calibration is not None) != (raw_probs is not None):
            raise ValueError("raw_probs go with an evaluator made with_raw, and only there")
        target = torch.as_tensor(target)
        if probs is not None:
            probs = torch.as_tensor(probs)
            if probs.dim() != 4 or probs.shape[1] != self.num_classes:
                raise ValueError(
                    f"probabilities of shape {tuple(probs.shape)} are not (B, "
                    f"{self.num_classes}, H, W)"
                )
            pred = probs.argmax(dim=1) if pred is None else pred
        pred = torch.as_tensor(pred, device=target.device if probs is None else probs.device)
        target = target.to(pred.device)
        counts = self.confusion.update_per_image(pred, target).cpu().numpy()
        ious = per_image_iou(counts)
        self.image_iou_hist += iou_histogram(ious)
        self.images += len(ious)
        self.images_without_labels += int(np.isnan(ious).sum())
        if self.with_scores:
            self._update_scores(probs, raw_probs, target, target != self.ignore_index)
        return ious

    def _update_scores(self, probs: Any, raw_probs: Any, target: Any, keep: Any) -> None:
        """Score histograms and calibration sums of the labelled pixels."""
        import torch

        n, bins = self.num_classes, self.score_bins
        offsets = (torch.arange(n, dtype=torch.int32, device=probs.device) * bins)[:, None]
        hist = torch.zeros(2 * n * bins, dtype=torch.int64, device=probs.device)
        for b in range(probs.shape[0]):  # one image at a time bounds the index memory
            kept = keep[b].reshape(-1)
            scores = probs[b].reshape(n, -1)[:, kept]  # (C, P): contiguous rows
            labels = target[b].reshape(-1)[kept].long()
            self.calibration.update(scores.T, labels)
            if self.raw_calibration is not None:
                raw = raw_probs[b].to(probs.device).reshape(n, -1)[:, kept]
                self.raw_calibration.update(raw.T, labels)
            flat = scores.float().mul(bins).int().clamp_(max=bins - 1).add_(offsets)  # int32
            # each pixel is a positive for its own class only: move that entry to the upper half
            flat[labels, torch.arange(labels.numel(), device=flat.device)] += n * bins
            hist += torch.bincount(flat.reshape(-1), minlength=2 * n * bins)
        self.score_hist += hist.reshape(2, n, bins).cpu().numpy()

    def merge(self, other: SegmentationEvaluator) -> SegmentationEvaluator:
        """Add a shard's state; both must have been made with the same settings."""
        mine, theirs = self._settings(), other._settings()
        if mine != theirs:
            raise ValueError(
                f"cannot merge evaluator state (classes, ignore, score bins, calibration bins, "
                f"raw calibration) {theirs} into {mine}"
            )
        self.with_scores = self.with_scores and other.with_scores
        self.confusion.merge(other.confusion)
        self.calibration.merge(other.calibration)
        if self.raw_calibration is not None and other.raw_calibration is not None:
            self.raw_calibration.merge(other.raw_calibration)
        self.score_hist += other.score_hist
        self.image_iou_hist += other.image_iou_hist
        self.images += other.images
        self.images_without_labels += other.images_without_labels
        return self

    def compute(self) -> SegmentationReport:
        scores = self.confusion.compute()
        ap = None
        if self.with_scores:
            ap = np.array(
                [
                    average_precision_from_histograms(self.score_hist[1, c], self.score_hist[0, c])
                    for c in range(self.num_classes)
                ]
            )
        return SegmentationReport(
            scores=scores,
            average_precision=ap,
            calibration=self.calibration.compute() if self.with_scores else None,
            raw_calibration=self.raw_calibration.compute()
            if self.with_scores and self.raw_calibration is not None
            else None,
            class_iou_histogram=iou_histogram(scores.iou),
            image_iou_histogram=self.image_iou_hist.copy(),
            images=self.images,
            images_without_labels=self.images_without_labels,
        )

    # ------------------------------------------------------------------ shard state on disk
    def _settings(self) -> tuple[int, ...]:
        with_raw = self.raw_calibration is not None
        return (
            self.num_classes,
            self.ignore_index,
            self.score_bins,
            self.calibration.n_bins,
            int(with_raw),
        )

    def state(self) -> dict[str, np.ndarray]:
        calibrations = {"calibration": self.calibration, "raw_calibration": self.raw_calibration}
        return {
            "version": np.array(STATE_VERSION),
            "settings": np.array([*self._settings(), int(self.with_scores)]),
            "confusion": self.confusion.numpy(),
            **{
                f"{prefix}_{k}": v
                for prefix, metrics in calibrations.items()
                if metrics is not None
                for k, v in metrics.state().items()
            },
            "score_hist": self.score_hist,
            "image_iou_hist": self.image_iou_hist,
            "images": np.array([self.images, self.images_without_labels]),
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        with atomic_path(path) as tmp, tmp.open("wb") as f:
            np.savez_compressed(f, **self.state())
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SegmentationEvaluator:
        """Read a state saved by `save`, with a CvtoolError naming the file when it is unusable."""
        import torch

        path = Path(path)
        if not path.is_file():
            raise CvtoolError(f"evaluation state not found: {path}")
        try:
            with np.load(path) as data:
                state = {k: data[k] for k in data.files}
            if int(state["version"]) != STATE_VERSION:
                raise CvtoolError(
                    f"{path}: evaluation state version {int(state['version'])} is not supported "
                    f"(this cvtool writes version {STATE_VERSION})",
                    "evaluate the shard again with this version of cvtool",
                )
            settings = [int(v) for v in state["settings"]]
            num_classes, ignore_index, score_bins, n_bins, with_raw, with_scores = settings
            ev = cls(
                num_classes, ignore_index, bool(with_scores), n_bins, score_bins, bool(with_raw)
            )
            ev.confusion.matrix = torch.from_numpy(state["confusion"].astype(np.int64))
            ev.calibration = _calibration_state(state, "calibration")
            if with_raw:
                ev.raw_calibration = _calibration_state(state, "raw_calibration")
            ev.score_hist[:] = state["score_hist"]
            ev.image_iou_hist[:] = state["image_iou_hist"]
            ev.images, ev.images_without_labels = (int(v) for v in state["images"])
        except CvtoolError:
            raise
        except Exception as e:  # zip/npz errors, missing keys, wrong shapes
            raise CvtoolError(f"{path} is not a readable evaluation state ({e})") from None
        return ev


def _calibration_state(state: dict[str, np.ndarray], prefix: str) -> CalibrationMetrics:
    start = f"{prefix}_"
    return CalibrationMetrics.from_state(
        {k[len(start) :]: v for k, v in state.items() if k.startswith(start)}
    )
