"""The run dir: where a run goes, whether it may be written, and whether a run may be resumed.

Resume rules: a run continues with the options it was trained with. `epochs` may grow (the
schedule is rebuilt for the new total, see `cvtool.engine.optim`); `data` may point elsewhere
(a moved dataset: its classes must be the same), and `device`, `workers`, `threads`, `cache`,
`augment_device`, `wandb` and `logger` say where and how the run is computed or logged, not what
it trains. Every other option must be equal.

Replacing a run (`overwrite`): the new run is written into a hidden staging sibling until its
first checkpoint, then swapped in (`cvtool.engine.writer`), so the old run survives a new one
that fails or diverges before saving anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cvtool.core.errors import CvtoolError
from cvtool.core.layout import dataset_parts
from cvtool.core.outputs import check_out_not_input, remove_debris, staging_dir
from cvtool.core.rundirs import next_run_dir
from cvtool.engine import distributed
from cvtool.engine.config import TrainConfig
from cvtool.engine.manifest import RUN_MANIFEST, RunManifest

STAGE = "train"
# Options that may differ from the recorded ones when a run is resumed (see the module doc).
MAY_CHANGE_ON_RESUME = (
    "epochs", "data", "device", "workers", "wandb", "logger", "threads", "cache", "augment_device",
)  # fmt: skip


def run_dir_for(cfg: TrainConfig) -> Path:
    """`cfg.out`, or the next free `runs/train/<model>` (numbered) when it is None."""
    if cfg.out is not None:
        return cfg.out
    if cfg.resume:
        raise CvtoolError("cannot resume without the run dir to continue", param="out")
    return next_run_dir(STAGE, cfg.model)


def last_checkpoint(run_dir: Path) -> Path:
    """The checkpoint a resumed run continues from."""
    last = Path(run_dir) / "checkpoints" / "last.pt"
    if not last.is_file():
        raise CvtoolError(
            f"cannot resume: no checkpoint {last} to continue from",
            "start a new run, or name the run dir to continue",
            param="resume",
        )
    return last


def check_new_run_dir(out: Path, data: Path, overwrite: bool) -> None:
    """Refuse an output dir that holds the dataset, holds something else, or holds a run that
    `overwrite` does not allow replacing."""
    check_out_not_input(out, {"data": dataset_parts(data)})
    if out.exists() and not out.is_dir():
        raise CvtoolError(f"output {out} exists and is not a directory", param="out")
    if not (out.is_dir() and any(out.iterdir())):
        return
    if not overwrite:
        raise CvtoolError(
            f"output directory {out} already exists and is not empty",
            "resume its training, overwrite it, or choose another output directory",
            param="out",
        )
    if not (out / RUN_MANIFEST).is_file():
        raise CvtoolError(
            f"{out} is not a cvtool run dir (no {RUN_MANIFEST}); not overwriting it",
            "choose another output directory",
            param="out",
        )


def create_run_dir(out: Path, overwrite: bool, is_main: bool) -> Path:
    """Rank 0 makes the run dir once every rank's set-up succeeded; returns where the run is
    written. To replace an existing run (`overwrite`), that is a new hidden staging sibling,
    swapped in by the writer with the first checkpoint: the old run survives a new one that
    fails or diverges before it. What an interrupted run left beside `out` is cleared first
    (the caller holds `out`'s lock)."""
    distributed.barrier()  # every rank has checked the run dir before rank 0 changes it
    if not is_main:
        return out
    remove_debris(out)
    target = out
    if overwrite and out.is_dir() and any(out.iterdir()):
        target = staging_dir(out)
    (target / "checkpoints").mkdir(parents=True, exist_ok=True)
    (target / "plots").mkdir(exist_ok=True)
    return target


def _differences(stored: dict[str, Any], now: dict[str, Any]) -> list[tuple[str, str]]:
    """`(option, "VALUE (now VALUE)")` for each recorded option that `now` changes."""
    out = []
    for key in sorted(set(stored) | set(now)):
        if key in MAY_CHANGE_ON_RESUME or key in ("model", "model_kwargs"):
            continue
        if stored.get(key) != now.get(key):
            out.append((key, f"{key} {stored.get(key)!r} (now {now.get(key)!r})"))
    return out


def check_resumable(
    run: RunManifest, cfg: TrainConfig, classes: list[dict[str, Any]], path: Path
) -> None:
    """Refuse to continue the run of checkpoint `path` (manifest `run`) with the resolved
    config `cfg` on a dataset of `classes` when anything but the changeable options differs,
    or when there is nothing left to train."""
    now = cfg.options()
    problems: list[tuple[str, str]] = []
    if run.model != cfg.model:
        problems.append(("model", f"model {run.model!r} (now {cfg.model!r})"))
    else:
        if run.model_kwargs != now["model_kwargs"]:
            text = f"model options {run.model_kwargs} (now {now['model_kwargs']})"
            problems.append(("model_kwargs", text))
        problems += _differences(run.options, now)
    if run.classes != classes:
        names = [c["name"] for c in run.classes]
        problems.append(("data", f"classes {names} (now {[c['name'] for c in classes]})"))
    if problems:
        raise CvtoolError(
            f"cannot resume {path}: it was trained with " + "; ".join(p for _, p in problems),
            "resume with the run's own options (only epochs may grow), or start a new run",
            param=problems[0][0],
        )
    if run.stopped_early is not None:
        stop = run.stopped_early
        raise CvtoolError(
            f"cannot resume {path}: it stopped early at epoch {stop['epoch']} (no better "
            f"validation score for {stop['patience']} epochs)",
            "start a new run from its options (its run.json as the config) with another patience",
            param="resume",
        )
    if run.epochs_completed >= cfg.epochs:
        raise CvtoolError(
            f"cannot resume {path}: it already finished epoch {run.epochs_completed} of "
            f"{cfg.epochs} epochs",
            "ask for more epochs to train further",
            param="epochs",
        )
    planned = int(run.options["epochs"])
    if cfg.epochs < planned:
        raise CvtoolError(
            f"cannot resume {path} with {cfg.epochs} epochs: it was planned for {planned}, and "
            "epochs may only grow",
            param="epochs",
        )
