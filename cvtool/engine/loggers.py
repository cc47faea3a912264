"""Per-epoch logging: `history.csv` (always), TensorBoard and Weights & Biases (optional extras).

`TrainConfig.logger` picks them: `csv` (history.csv only), `tensorboard`, `wandb`, or a comma
list. TensorBoard event files go to `RUN/tensorboard/`, so `tensorboard --logdir runs` shows
every run under `runs/`, named by its path.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
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


def import_tensorboard() -> Any:
    """torch's `SummaryWriter`, or a CvtoolError saying how to install TensorBoard."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise CvtoolError(
            "TensorBoard logging needs the tensorboard package",
            "pip install 'cvtool[tensorboard]'",
            param="logger",
        ) from None
    return SummaryWriter


def scalar_tag(key: str) -> str:
    """`train_loss` -> `loss/train` (train and val curves side by side); others as they are."""
    split, _, metric = key.partition("_")
    return f"{metric}/{split}" if split in ("train", "val") and metric else key


class TensorBoardLogger:
    """Writes each epoch's numbers as scalars and, when `images` is given, the image it
    returns (`(H, W, 3)` uint8, e.g. validation images with their predicted masks)."""

    def __init__(self, log_dir: Path, images: Callable[[], Any] | None = None) -> None:
        self.writer = import_tensorboard()(log_dir=str(log_dir))
        self.images = images

    def log(self, row: dict[str, Any]) -> None:
        epoch = int(row["epoch"])
        for key, value in row.items():
            if key != "epoch" and isinstance(value, int | float):
                self.writer.add_scalar(scalar_tag(key), value, epoch)
        if self.images is not None:
            self.writer.add_image("val/predictions", self.images(), epoch, dataformats="HWC")
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
