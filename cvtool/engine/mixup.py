"""Mixup (Zhang et al. 2018): convex combinations of image pairs, loss mixed the same way.

>>> batch = mixup(images, targets, alpha=0.2, rng=np.random.default_rng(0))
>>> loss = mixed_loss(criterion, model(batch.inputs), batch)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class MixedBatch:
    """`inputs = lam * x + (1 - lam) * x[perm]`; `targets_b = y[perm]`."""

    inputs: torch.Tensor
    targets_a: torch.Tensor
    targets_b: torch.Tensor
    lam: float

    @property
    def dominant_targets(self) -> torch.Tensor:
        """The targets of the larger share, for accuracy during mixup training."""
        return self.targets_a if self.lam >= 0.5 else self.targets_b


def mixup(x: torch.Tensor, y: torch.Tensor, alpha: float, rng: np.random.Generator) -> MixedBatch:
    """Draw `lam ~ Beta(alpha, alpha)` and a permutation of the batch from `rng`."""
    lam = float(rng.beta(alpha, alpha))
    perm = torch.as_tensor(rng.permutation(x.shape[0]), device=x.device)
    return MixedBatch(lam * x + (1 - lam) * x[perm], y, y[perm], lam)


def mixed_loss(
    criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    logits: torch.Tensor,
    batch: MixedBatch,
) -> torch.Tensor:
    """`lam * L(logits, y_a) + (1 - lam) * L(logits, y_b)`."""
    return batch.lam * criterion(logits, batch.targets_a) + (1 - batch.lam) * criterion(
        logits, batch.targets_b
    )
