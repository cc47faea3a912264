"""A writer killed at any file operation leaves either the old output or the complete new one,
and no reader takes what it left behind for an artifact.

Each run forks a writer that counts its file operations and dies with `os._exit` at the k-th
(`faults.run_forked`); k sweeps every operation of a replacement. The stages' own writers are
swept in the `test_faults_*` modules.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from corpus import disk_state
from faults import KILLED, run_forked

from cvtool.core import artifacts, outputs
from cvtool.core.errors import CvtoolError
from cvtool.core.rundirs import next_run_dir

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _write(out: Path, version: str) -> None:
    with artifacts.staged_output_dir(out, overwrite=True) as stage:
        for i in range(3):
            artifacts.atomic_write_text(stage / f"f{i}.txt", f"{version} {i}")
        (stage / "sub").mkdir()
        artifacts.atomic_write_text(stage / "sub" / "x.txt", version)


def _run_killed_at(out: Path, version: str, limit: int, exchange: bool) -> int:
    """A writer killed at file operation `limit` (`faults.run_forked`): `-KILLED`, or the
    number of operations of a writer that finished."""

    def write() -> None:
        if not exchange:
            outputs.exchange = lambda a, b: False  # in the child: the two-rename fallback
        _write(out, version)

    return run_forked(write, kill_at=limit)


def _state(out: Path) -> dict[str, str]:
    return disk_state(out)


def _readers_see_only(root: Path, out: Path) -> None:
    """Listings skip what a killed writer left; a path inside it is refused."""
    assert outputs.visible(root) == ([out] if out.exists() else [])
    assert next_run_dir(root.name, out.name, root.parent) == root / f"{out.name}2"
    for hidden in root.iterdir():
        if hidden.is_dir() and hidden.name.startswith("."):
            with pytest.raises(CvtoolError, match="staging directory"):
                outputs.check_not_staging(hidden / "f0.txt", "eval dir")


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two renames"])
def test_a_killed_replacement_leaves_old_or_new(tmp_path: Path, exchange: bool) -> None:
    if exchange and outputs._renameat2() is None:
        pytest.skip("no renameat2 here")
    root = tmp_path / "runs"
    out = root / "data"
    _write(out, "old")
    old = _state(out)
    reference = tmp_path / "reference" / "data"
    _write(reference, "new")
    new = _state(reference)
    outcomes: dict[str, int] = {"old": 0, "new": 0, "moved aside": 0}
    limit = 1
    while _run_killed_at(out, "new", limit, exchange) == -KILLED:
        now = _state(out)
        if not out.exists():
            # only between the two renames of the fallback: the old version waits beside it,
            # and the next writer puts it back before anything else
            assert not exchange, f"killed at {limit}: the output is missing"
            (aside,) = root.glob(".data.old-*/data")
            assert _state(aside) == old
            outcomes["moved aside"] += 1
            with pytest.raises(RuntimeError), artifacts.staged_output_dir(out, True):
                raise RuntimeError("a writer that fails")
            assert _state(out) == old
        else:
            assert now in (old, new), f"killed at operation {limit}: a mixed output"
            outcomes["old" if now == old else "new"] += 1
        if out.exists():
            _readers_see_only(root, out)
        _write(out, "new")  # the next writer takes the stale lock over and clears the debris
        assert _state(out) == new
        assert sorted(p.name for p in root.iterdir()) == ["data"]
        _write(out, "old")
        limit += 1
    assert limit > 10 and outcomes["old"] and outcomes["new"]
    assert bool(outcomes["moved aside"]) != exchange  # the fallback's gap, and only there
