"""The monitored validation score: best epoch so far, and early stopping with `patience`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass
class Monitor:
    """Tracks `metric` (higher is better) over 1-based epochs. With `patience`, the run stops
    once that many epochs passed without a better score than the best one."""

    metric: str
    patience: int | None = None
    best_epoch: int = 0
    best_value: float = -math.inf
    stopped_at: int | None = None

    def update(self, epoch: int, row: dict[str, Any]) -> bool:
        """Record epoch `epoch`'s row; True when its score is the best so far."""
        score = float(row[self.metric])
        improved = math.isfinite(score) and score > self.best_value
        if improved:
            self.best_epoch, self.best_value = epoch, score
        elif self.patience is not None and epoch - self.best_epoch >= self.patience:
            self.stopped_at = epoch
        return improved

    def best(self) -> dict[str, Any]:
        """`{epoch, metric, value}` as recorded in the run manifest (value None before any)."""
        value = self.best_value if self.best_epoch else None
        return {"epoch": self.best_epoch, "metric": self.metric, "value": value}

    def stopped_early(self) -> dict[str, int] | None:
        """`{epoch, patience}` once patience ended the run."""
        if self.stopped_at is None:
            return None
        return {"epoch": self.stopped_at, "patience": self.patience or 0}

    @classmethod
    def restore(cls, best: dict[str, Any], patience: int | None) -> Monitor:
        """The monitor of a resumed run, from its manifest's `best`."""
        value = best.get("value")
        return cls(
            best["metric"], patience, int(best["epoch"]), -math.inf if value is None else value
        )
