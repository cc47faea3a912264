"""Streaming confusion matrix for semantic segmentation and the scores derived from it.

Rows are ground truth, columns are predictions (sklearn's convention). Counts accumulate in
int64 with one `bincount` per batch, on whatever device the inputs live, after removing the
ignore index; memory is O(classes²) whatever the number of images.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with 0 where den == 0 (sklearn's zero_division=0)."""
    out = np.zeros_like(num, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


@dataclass
class ClassScores:
    """Per-class counts and ratios of a confusion matrix, 0 where a ratio is undefined
    (sklearn's `zero_division=0`). `present`: the class is in the labels or the predictions.

    F1 is `2 tp / (2 tp + fp + fn)`, which for pixels is the Dice coefficient: one number,
    computed once, reported under either name.
    """

    confusion: np.ndarray
    tp: np.ndarray
    support: np.ndarray
    predicted: np.ndarray
    present: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray

    @property
    def accuracy(self) -> float:
        total = self.support.sum()
        return float(self.tp.sum() / total) if total else float("nan")


def class_iou(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """IoU `tp / (tp + fp + fn)` of each class of `(..., n, n)` confusion counts, and whether
    the class occurs (in the labels or the predictions); the IoU is 0 where it does not."""
    cm = np.asarray(confusion, dtype=np.float64)
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    union = cm.sum(axis=-1) + cm.sum(axis=-2) - tp
    return safe_ratio(tp, union), union > 0


def class_scores(confusion: np.ndarray) -> ClassScores:
    """Support, predictions, precision, recall and F1 of each class of a confusion matrix."""
    cm = np.asarray(confusion, dtype=np.int64)
    tp = np.diag(cm).astype(np.float64)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    return ClassScores(
        confusion=cm,
        tp=tp,
        support=support,
        predicted=predicted,
        present=(support + predicted) > 0,
        precision=safe_ratio(tp, predicted),
        recall=safe_ratio(tp, support),
        f1=safe_ratio(2 * tp, support + predicted),
    )


@dataclass
class SegmentationScores:
    """Scores of a confusion matrix. Per-class arrays are NaN for classes absent from both the
    ground truth and the predictions; means are taken over the present classes only."""

    confusion: np.ndarray
    iou: np.ndarray
    f1: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    support: np.ndarray
    present: np.ndarray
    pixel_accuracy: float
    mean_class_accuracy: float
    miou: float
    fw_iou: float

    @property
    def dice(self) -> np.ndarray:
        """Per-class Dice, which for pixels is F1."""
        return self.f1

    def headline(self) -> dict[str, float]:
        return {
            "pixel_accuracy": self.pixel_accuracy,
            "mean_class_accuracy": self.mean_class_accuracy,
            "miou": self.miou,
            "fw_iou": self.fw_iou,
        }


def scores_from_confusion(confusion: np.ndarray) -> SegmentationScores:
    """Derive IoU, Dice/F1, precision, recall and the summary accuracies from a matrix."""
    c = class_scores(confusion)
    support, present = c.support, c.present
    nan = np.where(present, 1.0, np.nan)
    iou = class_iou(c.confusion)[0] * nan
    recall = c.recall * nan
    total = support.sum()
    has_support = support > 0
    return SegmentationScores(
        confusion=c.confusion,
        iou=iou,
        f1=c.f1 * nan,
        precision=c.precision * nan,
        recall=recall,
        support=support,
        present=present,
        pixel_accuracy=c.accuracy,
        mean_class_accuracy=float(recall[has_support].mean())
        if has_support.any()
        else float("nan"),
        miou=float(np.nanmean(iou)) if present.any() else float("nan"),
        fw_iou=float((support[has_support] * iou[has_support]).sum() / total)
        if total
        else float("nan"),
    )


class ConfusionMatrix:
    """Accumulate `update(pred, target)` over batches, then `compute()`.

    >>> cm = ConfusionMatrix(num_classes=3).update(pred_ids, mask)   # tensors or arrays
    >>> cm.compute().miou
    """

    def __init__(self, num_classes: int, ignore_index: int = 255) -> None:
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.matrix: Any = None  # torch.Tensor (n, n) int64, on the inputs' device

    def reset(self) -> ConfusionMatrix:
        self.matrix = None
        return self

    def update(self, pred: Any, target: Any) -> ConfusionMatrix:
        """Add integer class-id predictions and labels of the same shape (any layout)."""
        self._accumulate(self._counts(pred, target, per_image=False))
        return self

    def update_per_image(self, pred: Any, target: Any) -> Any:
        """Add a batch `(B, ...)` like `update`, and return its per-image counts `(B, n, n)`."""
        counts = self._counts(pred, target, per_image=True)
        self._accumulate(counts.sum(0))
        return counts

    def _counts(self, pred: Any, target: Any, per_image: bool) -> Any:
        import torch

        pred = torch.as_tensor(pred)
        target = torch.as_tensor(target, device=pred.device)
        if pred.shape != target.shape:
            raise ValueError(
                f"prediction shape {tuple(pred.shape)} != label shape {tuple(target.shape)}"
            )
        n = self.num_classes
        groups = pred.shape[0] if per_image and pred.dim() else 1
        target = target.reshape(groups, -1).long()
        pred = pred.reshape(groups, -1).long()
        keep = target != self.ignore_index
        flat = target * n + pred
        if groups > 1:  # offset each image's counts into its own n*n block
            flat = flat + torch.arange(groups, device=pred.device)[:, None] * (n * n)
        flat, target, pred = flat[keep], target[keep], pred[keep]
        for name, ids in (("label", target), ("prediction", pred)):
            if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= n):
                bad = int(ids.max()) if int(ids.max()) >= n else int(ids.min())
                raise ValueError(f"{name} id {bad} is outside 0..{n - 1}")
        counts = torch.bincount(flat, minlength=groups * n * n).reshape(groups, n, n)
        return counts if per_image else counts[0]

    def _accumulate(self, counts: Any) -> None:
        self.matrix = counts if self.matrix is None else self.matrix + counts.to(self.matrix.device)

    def merge(self, other: ConfusionMatrix) -> ConfusionMatrix:
        """Add another matrix's counts (e.g. a shard of a split evaluation)."""
        if other.num_classes != self.num_classes:
            raise ValueError(f"cannot merge {other.num_classes} classes into {self.num_classes}")
        if other.matrix is not None:
            theirs = other.matrix
            self.matrix = (
                theirs.clone()
                if self.matrix is None
                else self.matrix + theirs.to(self.matrix.device)
            )
        return self

    def all_reduce(self) -> ConfusionMatrix:
        """Sum the counts over all ranks of an initialised torch.distributed process group."""
        import torch
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            if self.matrix is None:
                self.matrix = torch.zeros(self.num_classes, self.num_classes, dtype=torch.int64)
            dist.all_reduce(self.matrix)
        return self

    def numpy(self) -> np.ndarray:
        if self.matrix is None:
            return np.zeros((self.num_classes, self.num_classes), dtype=np.int64)
        return self.matrix.detach().cpu().numpy().astype(np.int64)

    def compute(self) -> SegmentationScores:
        return scores_from_confusion(self.numpy())
