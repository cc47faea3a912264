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
from cvtool.core.provenance import invocation, utc_now, versions
from cvtool.engine.checkpoint import save_checkpoint
from cvtool.engine.curves import plot_history
from cvtool.engine.divergence import Divergence
from cvtool.engine.loggers import CsvLogger, TensorBoardLogger, WandbLogger
from cvtool.engine.manifest import RunManifest
from cvtool.engine.monitor import Monitor
from cvtool.engine.rundir import BEST, CURVES, HISTORY, LAST, publish_run_dir
from cvtool.engine.samples import prediction_grid
from cvtool.engine.setup import RunSetup

PLOT_INTERVAL_S = 10.0


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
    """Writes the run dir of `run` (rank 0 only) into `directory`; `close()` ends the loggers.

    `directory` is the run dir itself for a resumed run, else the staging directory of
    `cvtool.engine.rundir.create_run_dir`, published as the run dir with the first checkpoint.
    The TensorBoard and W&B logs start in the published run dir.
    """

    def __init__(self, run: RunSetup, history: list[dict[str, Any]], directory: Path) -> None:
        self.run = run
        assert run.cfg.out is not None
        self.target = run.cfg.out
        self.out = directory
        self.csv = CsvLogger(directory / HISTORY, history)
        self.loggers: list[Any] = [] if self.staged else self._loggers()
        self.history = history  # the list `fit` appends to
        self._plotted = (len(history), -math.inf)  # (epochs drawn, when)

    @property
    def staged(self) -> bool:
        """Whether the run is still in its staging directory (no checkpoint published yet)."""
        return self.out != self.target

    def _loggers(self) -> list[Any]:
        loggers, cfg = [], self.run.cfg
        if "tensorboard" in cfg.loggers:
            images = partial(prediction_grid, self.run) if self.run.segmentation else None
            loggers.append(TensorBoardLogger(self.target / "tensorboard", images))
        if "wandb" in cfg.loggers:
            loggers.append(WandbLogger(cfg.wandb or "cvtool", self.target, cfg.to_dict()))
        return loggers

    def _plot(self) -> None:
        plot_history(self.history, self.out / CURVES)
        self._plotted = (len(self.history), time.monotonic())

    def _print(self, row: dict[str, Any], mark: str) -> None:
        parts = [f"{k} {v:.4f}" for k, v in row.items() if k.startswith(("train_", "val_"))]
        info(f"epoch {row['epoch']}/{self.run.cfg.epochs}: " + ", ".join(parts) + mark)

    def start(self, monitor: Monitor, history: list[dict[str, Any]]) -> None:
        run_manifest(self.run, monitor, history).save(self.out)
        run = self.run
        info(
            f"training {run.cfg.model} on {len(run.train_ds)} {run.spec.task} images "
            f"({run.dataset.num_classes} classes), validating on {len(run.val_ds)}, "
            f"device {run.device}, {run.ctx.world_size} process(es), writing {self.target}"
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
        save_checkpoint(self.out / LAST, manifest, state)
        if improved:
            with atomic_path(self.out / BEST) as tmp:
                shutil.copyfile(self.out / LAST, tmp)
        stop = manifest.stopped_early
        last = row["epoch"] == self.run.cfg.epochs or stop is not None
        if last or time.monotonic() - self._plotted[1] >= PLOT_INTERVAL_S:
            self._plot()
        manifest.save(self.out)
        if self.staged:
            self._publish()
        for logger in self.loggers:
            logger.log(row)
        self._print(row, " (best)" if improved else "")
        if stop is not None:
            info(
                f"stopping early: no better {monitor.metric} for {stop['patience']} epochs "
                f"(best {monitor.best_value:.4f} at epoch {monitor.best_epoch})"
            )

    def _print(self, row: dict[str, Any], mark: str) -> None:
        parts = [f"{k} {v:.4f}" for k, v in row.items() if k.startswith(("train_", "val_"))]
        info(f"epoch {row['epoch']}/{self.run.cfg.epochs}: " + ", ".join(parts) + mark)

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
        if self.staged:  # no epoch was saved; `close()` discards the staging dir
            if self.target.exists():
                return f"the run it was to replace, {self.target}, is unchanged"
            return f"no epoch was saved, so no run dir was written at {self.target}"
        run_manifest(self.run, monitor, history, divergence.to_dict()).save(self.out)
        n = len(history)
        best = f"best.pt is epoch {monitor.best_epoch}" if monitor.best_epoch else "no best.pt"
        return (
            f"{self.out} keeps {'epoch 1' if n == 1 else f'epochs 1-{n}'} (checkpoints/last.pt "
            f"is epoch {n}, {best}) and records the divergence in run.json"
        )

    def _publish(self) -> None:
        publish_run_dir(self.out, self.target)
        self.out = self.target
        self.csv.path = self.target / HISTORY
        self.loggers = self._loggers()

    def close(self) -> None:
        """End the loggers; a run stopped before its first checkpoint leaves no run dir."""
        if self.staged:
            shutil.rmtree(self.out, ignore_errors=True)
        elif self._plotted[0] < len(self.history):  # an interrupted run: its curves so far
            self._plot()
        for logger in self.loggers:
            logger.close()
