"""Per-epoch logging: `history.csv` (always) and Weights & Biases (optional extra)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from cvtool.core.artifacts import atomic_write_text
from cvtool.core.errors import CvtoolError


class CsvLogger:
    """Rewrites `history.csv` atomically after each epoch with all rows so far."""

    def __init__(self, path: Path, rows: list[dict[str, Any]] | None = None) -> None:
        self.path = path
        self.rows = list(rows or [])

    def log(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(self.rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write_text(self.path, buf.getvalue())

    def close(self) -> None:
        return None


def import_wandb() -> Any:
    """The wandb module, or a CvtoolError saying how to install it."""
    try:
        import wandb
    except ImportError:
        raise CvtoolError(
            "wandb logging needs the wandb package", "pip install 'cvtool[wandb]'", param="wandb"
        ) from None
    return wandb


class WandbLogger:
    """Logs each epoch row to a W&B run (honours `WANDB_MODE=offline`)."""

    def __init__(self, project: str, run_dir: Path, config: dict[str, Any]) -> None:
        self.run = import_wandb().init(
            project=project, dir=str(run_dir), config=config, name=run_dir.name, resume="allow"
        )

    def log(self, row: dict[str, Any]) -> None:
        self.run.log(row, step=int(row["epoch"]))

    def close(self) -> None:
        self.run.finish()
