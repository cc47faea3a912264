"""The loss modules behind the `cvtool.engine.losses` registry, over logits `(N, C, ...)` and
integer targets `(N, ...)`; every one skips target positions equal to `ignore_index`."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


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
