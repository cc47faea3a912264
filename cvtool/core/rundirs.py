"""Default output directories: `runs/<stage>/<name>`, numbered `name`, `name2`, `name3`, ...

The same scheme as ultralytics' `project/name`: a command run without `--out` never refuses to
run and never overwrites an earlier result; it takes the first free name and prints its path.
"""

from __future__ import annotations

import os
from pathlib import Path

RUNS_ROOT = "runs"


def next_run_dir(stage: str, name: str, root: str | os.PathLike[str] = RUNS_ROOT) -> Path:
    """The first of `root/stage/name`, `root/stage/name2`, ... that does not exist yet.

    >>> next_run_dir("train", "unet")          # doctest: +SKIP
    PosixPath('runs/train/unet2')              # when runs/train/unet exists already
    """
    base = Path(root) / stage
    candidate, n = base / name, 1
    # Hidden staging siblings (`.name.partial-*`) are not taken: they vanish or become `name`.
    while candidate.exists():
        n += 1
        candidate = base / f"{name}{n}"
    return candidate
