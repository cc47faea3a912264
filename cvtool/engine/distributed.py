"""torch.distributed set-up for `torchrun` (DDP), and the single-process fallback.

`torchrun --nproc_per_node N -m cvtool train ...` sets `WORLD_SIZE`, `RANK` and `LOCAL_RANK`;
each process then trains one shard with NCCL on GPUs or gloo on CPUs, and only rank 0 writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from cvtool.core.device import resolve_device


@dataclass(frozen=True)
class DistContext:
    rank: int
    world_size: int
    device: Any  # torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup(device: str = "auto") -> DistContext:
    """Join the process group when launched by torchrun; a 1-process context otherwise."""
    import torch.distributed as dist

    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device, local_rank)
    if world_size > 1 and not dist.is_initialized():
        if dev.type == "cuda":
            import torch

            torch.cuda.set_device(dev)
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
    rank = dist.get_rank() if world_size > 1 else 0
    return DistContext(rank=rank, world_size=world_size, device=dev)


def teardown() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def all_reduce_sum(values: list[float], device: Any) -> list[float]:
    """Sum a few floats over all ranks (identity without a process group)."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def broadcast_flag(flag: bool, device: Any) -> bool:
    """Rank 0's `flag` on every rank (`flag` itself without a process group): one rank
    decides, and all act alike."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return flag
    t = torch.tensor([int(flag)], dtype=torch.int32, device=device)
    dist.broadcast(t, src=0)
    return bool(t.item())
