"""Segmentation/classification losses over logits `(N, C, ...)` and integer targets `(N, ...)`.

All losses skip target pixels equal to `ignore_index`. `build_loss` picks one by name:

- `ce`: cross-entropy with optional class weights and label smoothing (torch's definition).
- `focal`: mean over labelled pixels of `w_t (1 - p_t)^gamma (-log p_t)`, normalised by
  `sum(w_t)` like weighted cross-entropy (so gamma = 0 is exactly `ce`).
- `dice`: `1 - mean_c (2 sum(p_c g_c) + s) / (sum(p_c) + sum(g_c) + s)` over the batch, with
  softmax probabilities `p`, one-hot targets `g` and smoothing `s = 1`.
- `ce+dice`: their sum.
- `bce`: binary cross-entropy on the logit difference `z_1 - z_0` of a 2-class output (equal to
  the softmax probability of class 1), for foreground/background sets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cvtool.core.errors import CvtoolError
from cvtool.engine.config import LOSSES

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _valid(target: torch.Tensor, ignore_index: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Boolean mask of labelled positions, and the target with ignored positions set to 0."""
    valid = target != ignore_index
    return valid, torch.where(valid, target, torch.zeros_like(target))


class FocalLoss(nn.Module):
    def __init__(
        self, gamma: float = 2.0, weight: torch.Tensor | None = None, ignore_index: int = 255
    ) -> None:
        super().__init__()
        self.gamma = gamma
        self.ignore_index = ignore_index
        self.register_buffer("weight", weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        valid, safe = _valid(target, self.ignore_index)
        log_p = F.log_softmax(logits.float(), dim=1).gather(1, safe.unsqueeze(1)).squeeze(1)
        w = valid.float() if self.weight is None else self.weight[safe] * valid
        focal = (1 - log_p.exp()).clamp(min=0) ** self.gamma * -log_p
        return (w * focal).sum() / w.sum().clamp(min=1e-12)


class DiceLoss(nn.Module):
    def __init__(self, ignore_index: int = 255, smooth: float = 1.0) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.smooth = smooth

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        valid, safe = _valid(target, self.ignore_index)
        probs = F.softmax(logits.float(), dim=1) * valid.unsqueeze(1)
        onehot = F.one_hot(safe, logits.shape[1]).movedim(-1, 1) * valid.unsqueeze(1)
        dims = [0, *range(2, logits.ndim)]
        inter = (probs * onehot).sum(dims)
        card = probs.sum(dims) + onehot.sum(dims)
        return 1 - ((2 * inter + self.smooth) / (card + self.smooth)).mean()


class BinaryCrossEntropy(nn.Module):
    def __init__(self, ignore_index: int = 255) -> None:
        super().__init__()
        self.ignore_index = ignore_index

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        valid, safe = _valid(target, self.ignore_index)
        z = (logits[:, 1] - logits[:, 0]).float()
        bce = F.binary_cross_entropy_with_logits(z, safe.float(), reduction="none")
        return (bce * valid).sum() / valid.sum().clamp(min=1)


class SumLoss(nn.Module):
    def __init__(self, *losses: nn.Module) -> None:
        super().__init__()
        self.losses = nn.ModuleList(losses)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return sum(loss(logits, target) for loss in self.losses)  # type: ignore[return-value]


def build_loss(
    name: str,
    num_classes: int,
    ignore_index: int = 255,
    class_weights: Sequence[float] | None = None,
    focal_gamma: float = 2.0,
    label_smoothing: float = 0.0,
) -> nn.Module:
    """The loss `name` (see the module docstring) as an `nn.Module(logits, target)`."""
    weight = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float)
    if weight is not None and weight.numel() != num_classes:
        raise CvtoolError(f"{weight.numel()} class weights given for {num_classes} classes")
    if name == "ce":
        return nn.CrossEntropyLoss(
            weight=weight, ignore_index=ignore_index, label_smoothing=label_smoothing
        )
    if name == "focal":
        return FocalLoss(focal_gamma, weight, ignore_index)
    if name == "dice":
        return DiceLoss(ignore_index)
    if name == "ce+dice":
        ce = build_loss("ce", num_classes, ignore_index, class_weights, 0.0, label_smoothing)
        return SumLoss(ce, DiceLoss(ignore_index))
    if name == "bce":
        if num_classes != 2:
            raise CvtoolError(
                f"--loss bce is for binary (2-class) datasets; this one has {num_classes} classes",
                "use --loss ce",
            )
        return BinaryCrossEntropy(ignore_index)
    raise CvtoolError(f"unknown loss {name!r}; valid: {', '.join(LOSSES)}")


def median_frequency_weights(pixels: Sequence[int], image_pixels: Sequence[int]) -> list[float]:
    """SegNet's median frequency balancing: `w_c = median(f) / f_c`, `f_c` = pixels of class c
    / pixels of the images containing c. Classes never seen get weight 0."""
    pixels_t = torch.as_tensor(pixels, dtype=torch.float64)
    freq = pixels_t / torch.as_tensor(image_pixels, dtype=torch.float64).clamp(min=1)
    seen = pixels_t > 0
    if not seen.any():
        raise CvtoolError("cannot compute class weights: the training masks have no labels")
    median = float(np.median(freq[seen].numpy()))
    return torch.where(seen, median / freq.clamp(min=1e-12), 0.0).tolist()


def balanced_weights(counts: Sequence[int]) -> list[float]:
    """sklearn's 'balanced' weights `n / (k * n_c)` for per-image labels; 0 for absent classes."""
    c = torch.as_tensor(counts, dtype=torch.float64)
    present = c > 0
    return torch.where(present, c.sum() / (present.sum() * c.clamp(min=1)), 0.0).tolist()
