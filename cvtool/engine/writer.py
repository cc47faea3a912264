"""What rank 0 writes after each epoch: `checkpoints/last.pt` (and `best.pt` when the score
improved), `history.csv` (and the optional TensorBoard and W&B logs), `plots/curves.png` and
`run.json`; and, when an epoch diverged, only `run.json` saying so.

The curves are redrawn at most every `PLOT_INTERVAL_S` seconds and after the last epoch (a
redraw costs about 0.4 s, a quarter of an epoch of the demo's U-Net)."""

from __future__ import annotations

import math
import shutil
import time
from functools import partial
from pathlib import Path
from typing import Any

from cvtool.core.artifacts import atomic_path
from cvtool.core.console import info
from cvtool.core.outputs import swap_in
from cvtool.core.provenance import invocation, utc_now, versions
from cvtool.engine.checkpoint import save_checkpoint
from cvtool.engine.curves import plot_history
from cvtool.engine.divergence import Divergence
from cvtool.engine.loggers import CsvLogger, TensorBoardLogger, WandbLogger
from cvtool.engine.manifest import RunManifest
from cvtool.engine.monitor import Monitor
from cvtool.engine.samples import prediction_grid
from cvtool.engine.setup import RunSetup

PLOT_INTERVAL_S = 10.0
HISTORY_FILE = "history.csv"


def run_manifest(
    run: RunSetup,
    monitor: Monitor,
    history: list[dict[str, Any]],
    diverged: dict[str, Any] | None = None,
) -> RunManifest:
    """The manifest of `run` after the epochs of `history` (and, with `diverged`, the epoch
    after them that diverged)."""
    cfg = run.cfg
    return RunManifest(
        model=cfg.model,
        model_kwargs=cfg.options()["model_kwargs"],
        task=run.spec.task,
        dataset=str(cfg.data),
        classes=run.classes_json(),
        ignore_index=run.dataset.ignore_index,
        preprocess=cfg.preprocess.to_dict(),
        options=cfg.options(),
        class_weights=run.class_weights,
        epochs_completed=len(history),
        best=monitor.best(),
        stopped_early=monitor.stopped_early(),
        diverged=diverged,
        device=str(run.device),
        world_size=run.ctx.world_size,
        command=invocation(),
        updated=utc_now(),
        versions=versions("torch", "torchvision"),
    )


class RunWriter:
    """Writes the run dir of `run` (rank 0 only); `close()` ends the loggers.

    `directory` is where the run is written: its run dir, or (when it replaces an existing
    run) a hidden staging sibling that is swapped in with the first checkpoint, so the old run
    survives until then. TensorBoard and W&B are opened once the run dir is in place."""

    def __init__(self, run: RunSetup, history: list[dict[str, Any]], directory: Path) -> None:
        self.run = run
        out = run.cfg.out
        assert out is not None
        self.out, self.dir = out, directory
        self.csv = CsvLogger(directory / HISTORY_FILE, history)
        self.loggers: list[Any] = []
        if directory == out:
            self._open_loggers()
        self.history = history  # the list `fit` appends to
        self._plotted = (len(history), -math.inf)  # (epochs drawn, when)

    def _open_loggers(self) -> None:
        loggers = self.run.cfg.loggers
        if "tensorboard" in loggers:
            images = partial(prediction_grid, self.run) if self.run.segmentation else None
            self.loggers.append(TensorBoardLogger(self.out / "tensorboard", images))
        if "wandb" in loggers:
            project = self.run.cfg.wandb or "cvtool"
            self.loggers.append(WandbLogger(project, self.out, self.run.cfg.to_dict()))

    def _in_place(self) -> None:
        """Swap a staged run dir in (replacing the old run), then open the loggers."""
        if self.dir == self.out:
            return
        swap_in(self.dir, self.out)
        self.dir = self.out
        self.csv.path = self.out / HISTORY_FILE
        self._open_loggers()

    def _plot(self) -> None:
        plot_history(self.history, self.dir / "plots" / "curves.png")
        self._plotted = (len(self.history), time.monotonic())

    def _print(self, row: dict[str, Any], mark: str) -> None:
        parts = [f"{k} {v:.4f}" for k, v in row.items() if k.startswith(("train_", "val_"))]
        info(f"epoch {row['epoch']}/{self.run.cfg.epochs}: " + ", ".join(parts) + mark)

    def start(self, monitor: Monitor, history: list[dict[str, Any]]) -> None:
        run_manifest(self.run, monitor, history).save(self.dir)
        run = self.run
        info(
            f"training {run.cfg.model} on {len(run.train_ds)} {run.spec.task} images "
            f"({run.dataset.num_classes} classes), validating on {len(run.val_ds)}, "
            f"device {run.device}, {run.ctx.world_size} process(es), writing {self.out}"
        )

    def epoch(
        self, row: dict[str, Any], improved: bool, monitor: Monitor, history: list[dict[str, Any]]
    ) -> None:
        """Write the artifacts after epoch `row["epoch"]` (already appended to `history`)."""
        self.csv.log(row)
        manifest = run_manifest(self.run, monitor, history)
        state = {
            "model": self.run.model.state_dict(),
            "optimizer": self.run.optimizer.state_dict(),
            "scaler": self.run.scaler.state_dict() if self.run.amp else None,
            "history": history,
        }
        ckpt_dir = self.dir / "checkpoints"
        save_checkpoint(ckpt_dir / "last.pt", manifest, state)
        if improved:
            with atomic_path(ckpt_dir / "best.pt") as tmp:
                shutil.copyfile(ckpt_dir / "last.pt", tmp)
        stop = manifest.stopped_early
        last = row["epoch"] == self.run.cfg.epochs or stop is not None
        if last or time.monotonic() - self._plotted[1] >= PLOT_INTERVAL_S:
            self._plot()
        manifest.save(self.dir)
        self._in_place()
        for logger in self.loggers:
            logger.log(row)
        self._print(row, " (best)" if improved else "")
        if stop is not None:
            info(
                f"stopping early: no better {monitor.metric} for {stop['patience']} epochs "
                f"(best {monitor.best_value:.4f} at epoch {monitor.best_epoch})"
            )

    def diverged(
        self,
        divergence: Divergence,
        row: dict[str, Any],
        monitor: Monitor,
        history: list[dict[str, Any]],
    ) -> str:
        """Record that the epoch of `row` (not in `history`) diverged: its numbers are printed
        and the run manifest says so, while the checkpoints and `history.csv` stay at the last
        good epoch. Returns what the run dir keeps, for the error message."""
        self._print(row, " (diverged)")
        if self.dir != self.out:  # `close()` discards the staging dir
            return f"the run it was to replace, {self.out}, is unchanged"
        run_manifest(self.run, monitor, history, divergence.to_dict()).save(self.out)
        if not history:
            return f"{self.out} holds only run.json, which records the divergence"
        n = len(history)
        best = f"best.pt is epoch {monitor.best_epoch}" if monitor.best_epoch else "no best.pt"
        return (
            f"{self.out} keeps {'epoch 1' if n == 1 else f'epochs 1-{n}'} (checkpoints/last.pt "
            f"is epoch {n}, {best}) and records the divergence in run.json"
        )

    def close(self) -> None:
        if self.dir != self.out:  # no epoch was saved: the run it was to replace stays
            shutil.rmtree(self.dir, ignore_errors=True)
            return
        if self._plotted[0] < len(self.history):  # an interrupted run: its curves so far
            self._plot()
        for logger in self.loggers:
            logger.close()
