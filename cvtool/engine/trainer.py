"""The training entry point: one engine for segmentation and classification, CPU, CUDA and DDP.

>>> result = train(TrainConfig("unet", data="data/camvid", model_kwargs={"width": 16},
...                            epochs=5, size="96x128"))
>>> result.run_dir, result.best_value         # runs/train/unet (numbered), best val mIoU

Each epoch trains on the `train` split, validates on `val`, then rank 0 writes `last.pt` (and
`best.pt` when the validation score improved: mIoU for segmentation, accuracy for
classification), `history.csv`, `plots/*.png` and `run.json` (see `cvtool.engine.writer`).
`resume=True` continues a run exactly as if it had never stopped (on CPU; see
`cvtool.engine.loop`), with the rules of `cvtool.engine.rundir`. An epoch whose losses, score or
weights are NaN or Inf stops the run with a `CvtoolError` before anything of it is saved
(`cvtool.engine.divergence`); rank 0 decides, and every rank stops. Progress goes through
`cvtool.core.console`; wrap the call in `quiet()` to silence it.

Modules: `setup` (run dir checks, loaders, model, optimizer), `loop` (one epoch), `monitor`
(best score, patience), `divergence` (NaN/Inf checks), `writer` (artifacts), `options` (config
files, resume config).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cvtool.core.locks import output_lock
from cvtool.core.outputs import remove_debris
from cvtool.core.threads import set_threads
from cvtool.engine import distributed
from cvtool.engine.config import TrainConfig
from cvtool.engine.divergence import check_epoch, diverged_error, stopped_by_rank0
from cvtool.engine.loop import run_epoch
from cvtool.engine.monitor import Monitor
from cvtool.engine.rundir import create_run_dir
from cvtool.engine.setup import RunSetup, setup_run
from cvtool.engine.writer import RunWriter

# `callback(epoch, row)` after each epoch's artifacts are written; `epoch` is 1-based, as in
# the row, the printed lines and history.csv.
EpochCallback = Callable[[int, dict[str, Any]], None]


@dataclass
class TrainResult:
    run_dir: Path
    history: list[dict[str, Any]]
    best_epoch: int
    best_metric: str
    best_value: float
    stopped_early: bool = False
    main: bool = True  # False on the other ranks of a DDP run, which write nothing

    def summary(self) -> dict[str, Any]:
        last = self.history[-1] if self.history else {}
        return {
            "run_dir": str(self.run_dir),
            "epochs": len(self.history),
            "best_epoch": self.best_epoch,
            "best_metric": self.best_metric,
            "best_value": self.best_value,
            "stopped_early": self.stopped_early,
            "last": last,
        }


def train(config: TrainConfig, callbacks: Sequence[EpochCallback] = ()) -> TrainResult:
    """Train `config.model` on `config.data` and write the run dir `config.out` (by default
    the next free `runs/train/<model>`).

    Under `torchrun` every process calls this; they join one process group, and only rank 0
    writes."""
    set_threads(config.threads)
    ctx = distributed.setup(config.device)
    try:
        run = setup_run(config, ctx)
        assert run.cfg.out is not None
        # One writer per run dir: a second run or resume of it is refused while this one runs.
        with output_lock(run.cfg.out) if ctx.is_main else nullcontext():
            if ctx.is_main:
                remove_debris(run.cfg.out)  # the staging of a run killed before its checkpoint
            return fit(run, callbacks)
    finally:
        distributed.teardown()


def fit(run: RunSetup, callbacks: Sequence[EpochCallback] = ()) -> TrainResult:
    """Run the epochs of a set-up run, from the first one not yet trained."""
    cfg, main = run.cfg, run.ctx.is_main
    assert cfg.out is not None
    metric = "val_miou" if run.segmentation else "val_accuracy"
    history: list[dict[str, Any]] = []
    monitor = Monitor(metric, cfg.patience)
    if run.resumed is not None:
        history = list(run.resumed.history)
        monitor = Monitor.restore(run.resumed.run.best, cfg.patience)
    directory = create_run_dir(cfg.out, run.resumed is not None, main)
    writer = RunWriter(run, history, directory) if directory is not None else None
    try:
        if writer is not None:
            writer.start(monitor, history)
        for epoch in range(len(history) + 1, cfg.epochs + 1):
            row = run_epoch(run, epoch)
            divergence = check_epoch(row, metric, run.model) if main else None
            if distributed.broadcast_flag(divergence is not None, run.device):
                if writer is None or divergence is None:
                    raise stopped_by_rank0(epoch, run.ctx.rank)
                kept = writer.diverged(divergence, row, monitor, history)
                raise diverged_error(divergence, kept, float(cfg.lr or 0), run.amp)
            improved = monitor.update(epoch, row)
            history.append(row)
            if writer is not None:
                writer.epoch(row, improved, monitor, history)
            for callback in callbacks:
                callback(epoch, row)
            if monitor.stopped_at is not None:
                break
    finally:
        if writer is not None:
            writer.close()
    return TrainResult(
        cfg.out,
        history,
        monitor.best_epoch,
        metric,
        monitor.best_value,
        monitor.stopped_at is not None,
        main,
    )
