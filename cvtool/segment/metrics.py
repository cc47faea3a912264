"""Streaming evaluation state for semantic segmentation: everything `cvtool evaluate` reports.

One `SegmentationEvaluator` accumulates, batch after batch and in memory independent of the
number of images:

- an int64 confusion matrix (IoU, Dice, precision, recall, accuracies);
- per-class histograms of the softmax score of positive and negative pixels, from which the
  pixel-wise average precision is computed exactly as sklearn's `average_precision_score` would
  on scores rounded down to the histogram's resolution;
- a histogram of per-image IoUs (the mean IoU over the classes in that image's ground truth or
  prediction);
- top-label calibration sums (`CalibrationBins`).

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
from cvtool.core.calibration import CalibrationBins, CalibrationResult
from cvtool.core.confusion import ConfusionMatrix, SegmentationScores, class_iou
from cvtool.core.errors import CvtoolError

IOU_BINS = 10
SCORE_BINS = 10000
STATE_VERSION = 1


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
    calibration: CalibrationResult | None
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
        return {
            **self.scores.headline(),
            "mean_ap": self.mean_ap,
            "ece": self.calibration.ece if self.calibration else float("nan"),
            "mce": self.calibration.mce if self.calibration else float("nan"),
        }


class SegmentationEvaluator:
    """Accumulate `update(target, probs=...)` or `update(target, pred=...)`, then `compute()`.

    >>> ev = SegmentationEvaluator(num_classes=3)
    >>> ious = ev.update(masks, probs=logits.softmax(1))   # (B, H, W), (B, C, H, W)
    >>> ev.compute().scores.miou

    With probabilities, average precision and calibration are tracked too; with hard
    predictions only (`with_scores=False`), they are not.
    """

    def __init__(
        self,
        num_classes: int,
        ignore_index: int = IGNORE_INDEX,
        with_scores: bool = True,
        calibration_bins: int = 15,
        score_bins: int = SCORE_BINS,
    ) -> None:
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.with_scores = with_scores
        self.score_bins = score_bins
        self.confusion = ConfusionMatrix(num_classes, ignore_index)
        self.calibration = CalibrationBins(calibration_bins)
        # [negative, positive] x class x score bin
        self.score_hist = np.zeros((2, num_classes, score_bins), dtype=np.int64)
        self.image_iou_hist = np.zeros(IOU_BINS, dtype=np.int64)
        self.images = 0
        self.images_without_labels = 0

    def update(self, target: Any, probs: Any = None, pred: Any = None) -> np.ndarray:
        """Add a batch of label masks `(B, H, W)` with class probabilities `(B, C, H, W)` or
        predicted ids `(B, H, W)`; return the per-image IoUs of the batch."""
        import torch

        if probs is None and pred is None:
            raise ValueError("update needs probs or pred")
        if self.with_scores and probs is None:
            raise ValueError("this evaluator tracks scores: pass probs")
        target = torch.as_tensor(target)
        if probs is not None:
            probs = torch.as_tensor(probs)
            if probs.dim() != 4 or probs.shape[1] != self.num_classes:
                raise ValueError(
                    f"probabilities of shape {tuple(probs.shape)} are not (B, "
                    f"{self.num_classes}, H, W)"
                )
            confidence, argmax = probs.max(dim=1)
            pred = argmax if pred is None else pred
        pred = torch.as_tensor(pred, device=target.device if probs is None else probs.device)
        target = target.to(pred.device)
        counts = self.confusion.update_per_image(pred, target).cpu().numpy()
        ious = per_image_iou(counts)
        self.image_iou_hist += iou_histogram(ious)
        self.images += len(ious)
        self.images_without_labels += int(np.isnan(ious).sum())
        if self.with_scores:
            keep = target != self.ignore_index
            self.calibration.update(confidence[keep].float(), (pred == target)[keep])
            self._update_score_histograms(probs, target, keep)
        return ious

    def _update_score_histograms(self, probs: Any, target: Any, keep: Any) -> None:
        import torch

        n, bins = self.num_classes, self.score_bins
        offsets = (torch.arange(n, dtype=torch.int32, device=probs.device) * bins)[:, None]
        hist = torch.zeros(2 * n * bins, dtype=torch.int64, device=probs.device)
        for b in range(probs.shape[0]):  # one image at a time bounds the index memory
            kept = keep[b].reshape(-1)
            scores = probs[b].reshape(n, -1)[:, kept]  # (C, P): contiguous rows
            labels = target[b].reshape(-1)[kept].long()
            flat = scores.float().mul(bins).int().clamp_(max=bins - 1).add_(offsets)  # int32
            # each pixel is a positive for its own class only: move that entry to the upper half
            flat[labels, torch.arange(labels.numel(), device=flat.device)] += n * bins
            hist += torch.bincount(flat.reshape(-1), minlength=2 * n * bins)
        self.score_hist += hist.reshape(2, n, bins).cpu().numpy()

    def merge(self, other: SegmentationEvaluator) -> SegmentationEvaluator:
        """Add a shard's state; both must have been made with the same settings."""
        mine = (self.num_classes, self.ignore_index, self.score_bins, self.calibration.n_bins)
        theirs = (other.num_classes, other.ignore_index, other.score_bins, other.calibration.n_bins)
        if mine != theirs:
            raise ValueError(
                f"cannot merge evaluator state (classes, ignore, score bins, calibration bins) "
                f"{theirs} into {mine}"
            )
        self.with_scores = self.with_scores and other.with_scores
        self.confusion.merge(other.confusion)
        self.calibration.merge(other.calibration)
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
            class_iou_histogram=iou_histogram(scores.iou),
            image_iou_histogram=self.image_iou_hist.copy(),
            images=self.images,
            images_without_labels=self.images_without_labels,
        )

    # ------------------------------------------------------------------ shard state on disk
    def state(self) -> dict[str, np.ndarray]:
        return {
            "version": np.array(STATE_VERSION),
            "settings": np.array(
                [self.num_classes, self.ignore_index, self.score_bins, int(self.with_scores)]
            ),
            "confusion": self.confusion.numpy(),
            **{f"calibration_{k}": np.asarray(v) for k, v in self.calibration.state().items()},
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
                    f"{path}: evaluation state version {int(state['version'])} is not supported"
                )
            num_classes, ignore_index, score_bins, with_scores = (int(v) for v in state["settings"])
            ev = cls(
                num_classes,
                ignore_index,
                bool(with_scores),
                len(state["calibration_count"]),
                score_bins,
            )
            ev.confusion.matrix = torch.from_numpy(state["confusion"].astype(np.int64))
            ev.calibration = CalibrationBins.from_state(
                {k: state[f"calibration_{k}"] for k in ("count", "confidence_sum", "correct")}
            )
            ev.score_hist[:] = state["score_hist"]
            ev.image_iou_hist[:] = state["image_iou_hist"]
            ev.images, ev.images_without_labels = (int(v) for v in state["images"])
        except CvtoolError:
            raise
        except Exception as e:  # zip/npz errors, missing keys, wrong shapes
            raise CvtoolError(f"{path} is not a readable evaluation state ({e})") from None
        return ev
