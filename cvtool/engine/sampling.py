"""Samplers: per-epoch shuffling or rare-class oversampling, sharded across DDP ranks.

Every sampler draws from a generator seeded by `(seed, epoch)`, so an epoch's order does not
depend on what ran before it: a resumed run sees the same batches as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch


def oversample_weights(present: np.ndarray) -> np.ndarray:
    """Image weights `max_{c in image} 1 / f_c`, `f_c` = fraction of images containing class c
    (1 for images without labels): images with rare classes are drawn more often."""
    present = np.asarray(present, dtype=bool)
    freq = present.mean(axis=0)
    inv = np.where(freq > 0, 1 / np.maximum(freq, 1e-12), 0.0)
    weights = (present * inv).max(axis=1, initial=0.0)
    return np.where(weights > 0, weights, 1.0)


class EpochSampler(torch.utils.data.Sampler[int]):
    """Shuffle (or draw `len` indices with replacement from `weights`) with a generator seeded by
    `seed + epoch`, pad to a multiple of `world_size` and keep every `world_size`-th index from
    `rank`, like `DistributedSampler`. Call `set_epoch` before each epoch."""

    def __init__(
        self,
        length: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
        weights: np.ndarray | None = None,
    ) -> None:
        self.length, self.seed, self.rank, self.world_size = length, seed, rank, world_size
        self.weights = None if weights is None else torch.as_tensor(weights, dtype=torch.double)
        self.epoch = 0
        self.per_rank = -(-length // world_size)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        if self.weights is None:
            order = torch.randperm(self.length, generator=g)
        else:
            order = torch.multinomial(self.weights, self.length, replacement=True, generator=g)
        total = self.per_rank * self.world_size
        order = torch.cat([order, order[: total - self.length]])
        return iter(order[self.rank :: self.world_size].tolist())

    def __len__(self) -> int:
        return self.per_rank


class ShardSampler(torch.utils.data.Sampler[int]):
    """Indices `rank, rank + world_size, ...` in order, without padding (exact validation)."""

    def __init__(self, length: int, rank: int = 0, world_size: int = 1) -> None:
        self.indices = list(range(rank, length, world_size))

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)
