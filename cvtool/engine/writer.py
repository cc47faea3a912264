"""What rank 0 writes after each epoch: `checkpoints/last.pt` (and `best.pt` when the score
improved), `history.csv` (and the optional TensorBoard and W&B logs), `plots/curves.png` and
`run.json`.

The curves are redrawn at most every `PLOT_INTERVAL_S` seconds and after the last epoch (a
redraw costs about 0.4 s, a quarter of an epoch of the demo's U-Net)."""

from __future__ import annotations

import math
import shutil
import time
from functools import partial
from typing import Any

from cvtool.core.artifacts import atomic_path
from cvtool.core.console import info
from cvtool.core.provenance import invocation, utc_now, versions
from cvtool.engine.checkpoint import save_checkpoint
from cvtool.engine.curves import plot_history
from cvtool.engine.loggers import CsvLogger, TensorBoardLogger, WandbLogger
from cvtool.engine.manifest import RunManifest
from cvtool.engine.monitor import Monitor
from cvtool.engine.samples import prediction_grid
from cvtool.engine.setup import RunSetup

PLOT_INTERVAL_S = 10.0


def run_manifest(run: RunSetup, monitor: Monitor, history: list[dict[str, Any]]) -> RunManifest:
    """The manifest of `run` after the epochs of `history`."""
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
        device=str(run.device),
        world_size=run.ctx.world_size,
        command=invocation(),
        updated=utc_now(),
        versions=versions("torch", "torchvision"),
    )


class RunWriter:
    """Writes the run dir of `run` (rank 0 only); `close()` ends the loggers."""

    def __init__(self, run: RunSetup, history: list[dict[str, Any]]) -> None:
        self.run = run
        out = run.cfg.out
        assert out is not None
        self.out = out
        self.loggers: list[Any] = [CsvLogger(out / "history.csv", history)]
        loggers = run.cfg.loggers
        if "tensorboard" in loggers:
            images = partial(prediction_grid, run) if run.segmentation else None
            self.loggers.append(TensorBoardLogger(out / "tensorboard", images))
        if "wandb" in loggers:
            project = run.cfg.wandb or "cvtool"
            self.loggers.append(WandbLogger(project, out, run.cfg.to_dict()))
        self.history = history  # the list `fit` appends to
        self._plotted = (len(history), -math.inf)  # (epochs drawn, when)

    def _plot(self) -> None:
        plot_history(self.history, self.out / "plots" / "curves.png")
        self._plotted = (len(self.history), time.monotonic())

    def start(self, monitor: Monitor, history: list[dict[str, Any]]) -> None:
        run_manifest(self.run, monitor, history).save(self.out)
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
        for logger in self.loggers:
            logger.log(row)
        manifest = run_manifest(self.run, monitor, history)
        state = {
            "model": self.run.model.state_dict(),
            "optimizer": self.run.optimizer.state_dict(),
            "scaler": self.run.scaler.state_dict() if self.run.amp else None,
            "history": history,
        }
        ckpt_dir = self.out / "checkpoints"
        save_checkpoint(ckpt_dir / "last.pt", manifest, state)
        if improved:
            with atomic_path(ckpt_dir / "best.pt") as tmp:
                shutil.copyfile(ckpt_dir / "last.pt", tmp)
        stop = manifest.stopped_early
        last = row["epoch"] == self.run.cfg.epochs or stop is not None
        if last or time.monotonic() - self._plotted[1] >= PLOT_INTERVAL_S:
            self._plot()
        manifest.save(self.out)
        parts = [f"{k} {v:.4f}" for k, v in row.items() if k.startswith(("train_", "val_"))]
        line = f"epoch {row['epoch']}/{self.run.cfg.epochs}: " + ", ".join(parts)
        info(line + (" (best)" if improved else ""))
        if stop is not None:
            info(
                f"stopping early: no better {monitor.metric} for {stop['patience']} epochs "
                f"(best {monitor.best_value:.4f} at epoch {monitor.best_epoch})"
            )

    def close(self) -> None:
        if self._plotted[0] < len(self.history):  # an interrupted run: its curves so far
            self._plot()
        for logger in self.loggers:
            logger.close()
