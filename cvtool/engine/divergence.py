"""A diverged run: what counts as one, and the error that stops it.

After each epoch rank 0 checks the epoch's training loss, validation loss and monitored score,
and every weight of the model (parameters and buffers such as batch-norm statistics). Anything
NaN or Inf stops the run before the epoch is recorded: it never becomes the best epoch, and its
weights are never saved, so the run dir keeps its last good epoch (`cvtool.engine.writer`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from cvtool.core.errors import CvtoolError
from cvtool.core.finite import describe_tensors, nonfinite_tensors


@dataclass(frozen=True)
class Divergence:
    """The 1-based `epoch` that diverged and what was found non-finite in it."""

    epoch: int
    found: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """`{epoch, found}` as the run manifest records it (`diverged`)."""
        return {"epoch": self.epoch, "found": list(self.found)}


def check_epoch(row: dict[str, Any], metric: str, model: Any) -> Divergence | None:
    """The divergence of the epoch of history row `row` (monitored score `metric`) and the
    model's weights after it, or None when everything is finite."""
    found = [
        f"{key} {row[key]}"
        for key in dict.fromkeys(("train_loss", "val_loss", metric))
        if key in row and not math.isfinite(row[key])
    ]
    state = model.state_dict()
    bad = nonfinite_tensors(state)
    if bad:
        found.append(f"weights contain NaN/Inf in {describe_tensors(bad, len(state))}")
    return Divergence(int(row["epoch"]), found) if found else None


def diverged_error(divergence: Divergence, kept: str, lr: float, amp: bool) -> CvtoolError:
    """The error that ends a diverged run; `kept` says what its run dir holds."""
    fixes = f"train again with a lower learning rate (`lr`, was {lr:g})"
    if amp:
        fixes += ", or without mixed precision (`amp=False`)"
    return CvtoolError(
        f"training diverged in epoch {divergence.epoch}: {'; '.join(divergence.found)}. "
        f"Stopped without saving that epoch; {kept}",
        fixes,
    )


def stopped_by_rank0(epoch: int, rank: int) -> CvtoolError:
    """The error on the other ranks of a DDP run that rank 0 found diverged."""
    return CvtoolError(f"rank {rank} stopped: rank 0 found that training diverged in epoch {epoch}")
