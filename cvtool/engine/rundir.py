"""The run dir: where a run goes, whether it may be written, and whether a run may be resumed.

Resume rules: a run continues with the options it was trained with. `epochs` may grow (the
schedule is rebuilt for the new total, see `cvtool.engine.optim`); `data` may point elsewhere
(a moved dataset: its classes must be the same), and `device`, `workers`, `threads`, `cache`,
`augment_device`, `wandb` and `logger` say where and how the run is computed or logged, not what
it trains. Every other option must be equal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cvtool.core.errors import CvtoolError
from cvtool.core.layout import dataset_parts
from cvtool.core.outputs import (
    check_not_staging,
    check_out_not_input,
    remove_temp_files,
    staging_dir,
    swap_in,
)
from cvtool.core.rundirs import next_run_dir
from cvtool.engine import distributed
from cvtool.engine.config import TrainConfig
from cvtool.engine.manifest import RUN_MANIFEST, RunManifest

STAGE = "train"
# The files a run rewrites after each epoch (see `cvtool.engine.writer`).
HISTORY, CURVES = "history.csv", "plots/curves.png"
LAST, BEST = "checkpoints/last.pt", "checkpoints/best.pt"
RUN_FILES = (RUN_MANIFEST, HISTORY, LAST, BEST, CURVES)
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
    check_not_staging(run_dir, "run dir")
    last = Path(run_dir) / LAST
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


def create_run_dir(out: Path, resumed: bool, is_main: bool) -> Path | None:
    """The directory rank 0 writes the run into, once every rank's set-up succeeded (None on
    the other ranks). Call it holding the run dir's lock.

    A resumed run is written in place (the temporary files of a killed writer are cleared
    first). A new run starts in a hidden staging sibling of `out`, which `publish_run_dir`
    swaps in once it holds its first checkpoint: until then an `--overwrite`'d run stays as it
    was, and a run killed before is no run dir at all (the next writer clears its staging).
    """
    distributed.barrier()  # every rank has checked the run dir before rank 0 changes it
    if not is_main:
        return None
    if resumed:
        for name in RUN_FILES:
            remove_temp_files(out / name)
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_dir(out)
    (staging / "checkpoints").mkdir()
    (staging / "plots").mkdir()
    return staging


def publish_run_dir(staging: Path, out: Path) -> None:
    """Make the staged new run `out`, replacing the run an `--overwrite` named."""
    swap_in(staging, out)


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
