"""Default output directories: `runs/<stage>/<name>`, numbered `name`, `name2`, `name3`, ...

The same scheme as ultralytics' `project/name`: a command run without `--out` never refuses to
run and never overwrites an earlier result; it takes the first free name and prints its path.
"""

from __future__ import annotations

import os
from pathlib import Path

from cvtool.core.locks import held_by_other, lock_path

RUNS_ROOT = "runs"


def next_run_dir(stage: str, name: str, root: str | os.PathLike[str] = RUNS_ROOT) -> Path:
    """The first of `root/stage/name`, `root/stage/name2`, ... that does not exist yet and
    that no running process is writing (a new training run appears only with its first
    checkpoint, see `cvtool.engine.rundir.create_run_dir`).

    >>> next_run_dir("train", "unet")          # doctest: +SKIP
    PosixPath('runs/train/unet2')              # when runs/train/unet exists already
    """
    base = Path(root) / stage
    candidate, n = base / name, 1
    # The staging of a killed writer (`.name.partial-*`, its lock no longer held) does not
    # take the name: the next writer of `name` clears it.
    while candidate.exists() or held_by_other(lock_path(candidate)) is not None:
        n += 1
        candidate = base / f"{name}{n}"
    return candidate
