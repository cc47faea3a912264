"""Segmentation/classification losses: a plain name -> factory registry.

Every loss takes logits `(N, C, ...)` and integer targets `(N, ...)` and skips target positions
equal to `ignore_index`:

- `ce`: cross-entropy with optional class weights and label smoothing (torch's definition).
- `focal`: mean over labelled pixels of `w_t (1 - p_t)^gamma (-log p_t)`, normalised by
  `sum(w_t)` like weighted cross-entropy (so gamma = 0 is exactly `ce`).
- `dice`: `1 - mean_c (2 sum(p_c g_c) + s) / (sum(p_c) + sum(g_c) + s)` over the batch, with
  softmax probabilities `p`, one-hot targets `g` and smoothing `s = 1`.
- `ce+dice`: their sum.
- `bce`: binary cross-entropy on the logit difference `z_1 - z_0` of a 2-class output (equal to
  the softmax probability of class 1), for foreground/background sets.

Importing this module is cheap (torch is imported by the factories). Adding a loss is one
factory `(LossArgs) -> nn.Module` and one `LOSSES` entry.

>>> criterion = build_loss("focal", num_classes=3, class_weights=[1, 2, 2], focal_gamma=2.0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cvtool.core.errors import CvtoolError, ParameterError


@dataclass(frozen=True)
class LossArgs:
    """What a loss factory may use; `weight` is a float tensor of `num_classes` or None."""

    num_classes: int
    ignore_index: int = 255
    weight: Any = None
    focal_gamma: float = 2.0
    label_smoothing: float = 0.0


def _ce(a: LossArgs) -> Any:
    from torch import nn

    return nn.CrossEntropyLoss(
        weight=a.weight, ignore_index=a.ignore_index, label_smoothing=a.label_smoothing
    )


def _focal(a: LossArgs) -> Any:
    from cvtool.engine.loss_modules import FocalLoss

    return FocalLoss(a.focal_gamma, a.weight, a.ignore_index)


def _dice(a: LossArgs) -> Any:
    from cvtool.engine.loss_modules import DiceLoss

    return DiceLoss(a.ignore_index)


def _ce_dice(a: LossArgs) -> Any:
    from cvtool.engine.loss_modules import SumLoss

    return SumLoss(_ce(a), _dice(a))


def _bce(a: LossArgs) -> Any:
    from cvtool.engine.loss_modules import BinaryCrossEntropy

    if a.num_classes != 2:
        raise CvtoolError(
            f"loss 'bce' is for binary (2-class) datasets; this one has {a.num_classes} classes",
            "use the 'ce' loss",
            param="loss",
        )
    return BinaryCrossEntropy(a.ignore_index)


LOSSES: dict[str, Callable[[LossArgs], Any]] = {
    "ce": _ce,
    "focal": _focal,
    "dice": _dice,
    "ce+dice": _ce_dice,
    "bce": _bce,
}


def build_loss(
    name: str,
    num_classes: int,
    ignore_index: int = 255,
    class_weights: Sequence[float] | None = None,
    focal_gamma: float = 2.0,
    label_smoothing: float = 0.0,
) -> Any:
    """The loss `name` (see the module docstring) as an `nn.Module(logits, target)`."""
    import torch

    if name not in LOSSES:
        raise ParameterError(f"unknown loss {name!r}; valid: {', '.join(LOSSES)}", "loss")
    weight = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float)
    if weight is not None and weight.numel() != num_classes:
        raise CvtoolError(
            f"{weight.numel()} class weights given for {num_classes} classes",
            param="class_weights",
        )
    return LOSSES[name](LossArgs(num_classes, ignore_index, weight, focal_gamma, label_smoothing))
