"""Fault injection: kill a writer at its k-th file operation and check what it left behind.

`run_forked(fn, kill_at)` runs `fn` in a forked child that counts its file operations and dies
with `os._exit` at operation `kill_at`, as `kill -9` would: no `finally`, no `atexit`, the
`flock`s released by the system. Counted: the `os` calls that create, link, rename or remove
(`open` for writing, `mkdir`, `link`, `symlink`, `rename`, `replace`, `unlink`, `remove`,
`rmdir`: `tempfile`, `pathlib` and `shutil.rmtree` go through them), Python-level opens for
writing (`builtins.open` and `io.open`: PIL, NumPy, `torch.save`, `shutil.copyfile`,
`Path.write_bytes`), `shutil.rmtree` itself and the atomic exchange of `cvtool.core.outputs`.
Bytes that C libraries write themselves (PyAV's muxer, `torch.jit.save`) are not counted, but
they go to temporary files whose creation and renaming are.

`sweep` checks a stage: an uninterrupted run counts its operations, then for each kill point
(every operation, or the first and last few and an even spread between them; see
`kill_points`) a killed run must leave each artifact either exactly as it was or complete and
new, every staging directory it left must be hidden and refused by the stage's readers, and a
re-run must succeed and leave nothing hidden behind. What a re-run meets is the version each
artifact holds and the kinds of hidden entries left (a lock file, a staging directory, an old
version moved aside, a temporary file), whatever their contents: by default one re-run runs
for each such leftover state the sweep meets (none where nothing was left: that re-run is an
ordinary run), and with `$CVTOOL_FAULT_POINTS` set, one after every kill.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import json
import os
import select
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from corpus import disk_state

from cvtool.core import outputs
from cvtool.core.errors import CvtoolError
from cvtool.core.locks import held_by_other

KILLED = 86
OS_CALLS = ("mkdir", "link", "symlink", "rename", "replace", "unlink", "remove", "rmdir")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
DEFAULT_POINTS = 8  # kill points of a sweep (`kill_points`)
POINTS_VARIABLE = "CVTOOL_FAULT_POINTS"  # "all", or a number of points


class _Counter:
    """Counts file operations; the `limit`-th one ends the process."""

    def __init__(self, limit: int | None) -> None:
        self.count, self.limit, self.on = 0, limit, True

    def hit(self) -> None:
        if self.on:
            self.count += 1
            if self.count == self.limit:
                os._exit(KILLED)

    def wrap(self, fn: Callable) -> Callable:
        def counted(*args, **kwargs):
            self.hit()
            return fn(*args, **kwargs)

        return counted


def _install(counter: _Counter) -> None:
    for name in OS_CALLS:
        setattr(os, name, counter.wrap(getattr(os, name)))
    os_open, py_open = os.open, builtins.open

    def open_fd(path, flags, *args, **kwargs):
        if flags & WRITE_FLAGS:
            counter.hit()
        return os_open(path, flags, *args, **kwargs)

    def open_file(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+"):
            counter.hit()
        return py_open(file, mode, *args, **kwargs)

    os.open = open_fd
    builtins.open = io.open = open_file
    shutil.rmtree = counter.wrap(shutil.rmtree)
    outputs.exchange = counter.wrap(outputs.exchange)


def _child(fn: Callable[[], object], kill_at: int | None, pipe: int) -> None:
    code, report = 1, {}
    try:
        # One intra-op thread: an OpenMP team of the parent does not survive the fork.
        os.environ["OMP_NUM_THREADS"] = "1"
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(1)
        counter = _Counter(kill_at)
        _install(counter)
        fn()
        counter.on = False
        report["ops"], code = counter.count, 0
    except BaseException:
        report["error"] = traceback.format_exc()[-8000:]
    finally:
        data = json.dumps(report).encode()
        while data:
            data = data[os.write(pipe, data) :]
        os._exit(code)


def run_forked(fn: Callable[[], object], kill_at: int | None = None, timeout: float = 120) -> int:
    """Run `fn` in a forked child, killed at file operation `kill_at` (None: never).

    Returns the number of operations of a run that finished, or `KILLED`'s negative when it
    was killed; an exception in the child fails the test with its traceback."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        _child(fn, kill_at, write)
    os.close(write)
    data, deadline = b"", time.monotonic() + timeout
    try:
        while True:
            ready, _, _ = select.select([read], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                pytest.fail(f"the writer was still running after {timeout} s")
            chunk = os.read(read, 65536)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(read)
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    if code == KILLED:
        return -KILLED
    report = json.loads(data or b"{}")
    assert code == 0, f"the writer failed (exit {code}):\n{report.get('error', '')}"
    return int(report["ops"])


def kill_points(total: int, budget: int = DEFAULT_POINTS) -> list[int]:
    """Operations 1..total to kill at: all when `$CVTOOL_FAULT_POINTS` is `all` or there are
    no more than `budget` (`$CVTOOL_FAULT_POINTS` when it is a number), else the first three,
    the last three and an even spread between them."""
    setting = os.environ.get(POINTS_VARIABLE, "")
    if setting == "all":
        return list(range(1, total + 1))
    budget = max(7, int(setting)) if setting else budget
    if total <= budget:
        return list(range(1, total + 1))
    ends = {1, 2, 3, total - 2, total - 1, total}
    inner = budget - len(ends)
    step = (total - 7) / (inner + 1)  # over 4..total-3
    return sorted(ends | {3 + round(step * (i + 1)) for i in range(inner)})


def state(path: Path) -> dict[str, str]:
    """The visible content of an artifact, a directory or one file (what readers see)."""
    if path.is_file():
        return {"": hashlib.sha256(path.read_bytes()).hexdigest()}
    full = disk_state(path)
    return {k: v for k, v in full.items() if not any(p.startswith(".") for p in k.split("/"))}


def hidden_beside(paths: list[Path]) -> set[Path]:
    """Hidden entries beside and inside the artifacts `paths` (staging directories, locks,
    temporary files)."""
    found: set[Path] = set()
    for path in paths:
        found |= {p for p in path.parent.iterdir() if p.name.startswith(".")}
        if path.is_dir():
            found |= {p for p in path.rglob(".*")}
    return found


def _kind(path: Path) -> str:
    """What a hidden entry is: a lock file, a staging directory (`partial`, or `old` for the
    old version moved aside), or a temporary file."""
    if path.name.endswith(".lock"):
        return "lock"
    if path.is_dir() and outputs.is_staging(path.name):
        return "old" if ".old-" in path.name else "partial"
    return "temp"


def _copy(source: Path, target: Path) -> None:
    """Make `target` a copy of `source` (nothing when `source` does not exist)."""
    if target.is_dir():
        shutil.rmtree(target)
    elif target.exists():
        target.unlink()
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True)
    elif source.exists():
        shutil.copy2(source, target)


Complete = Callable[[Path], object]


@dataclass
class Outcome:
    """What a sweep saw: file operations of a run, the points killed at, and how often every
    artifact was the old one, how often at least one was new."""

    stage: str
    ops: int
    points: list[int]
    old: int = 0
    new: int = 0
    reruns: int = 0
    refused: int = 0
    seconds: float = 0.0
    debris: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.stage}: {self.ops} ops, killed at {len(self.points)}, old {self.old}, "
            f"new {self.new}, re-runs ok {self.reruns}, staging refused {self.refused}, "
            f"{self.seconds:.1f} s"
        )


def sweep(
    stage: str,
    artifacts: Mapping[Path, Complete],
    write: Callable[[], object],
    scratch: Path,
    *,
    rerun: Callable[[str], object] | None = None,
    refuse: Callable[[Path], object] | None = None,
    budget: int = DEFAULT_POINTS,
) -> Outcome:
    """Kill `write` at its file operations and check what each kill leaves (module docstring).

    `artifacts`: each output path with a check that raises unless it holds a complete new
    artifact. Their current content is the old version, put back after each point.
    `rerun(held)`: the run after a kill (default: `write` again), told whether every artifact
    still held its old version ("old") or not ("new"). `refuse(staging)`: give a reader the
    staging directory a killed writer left; it must raise `CvtoolError` naming it.
    """
    start = time.perf_counter()
    paths = list(artifacts)
    saved = {p: scratch / f"saved-{i}" for i, p in enumerate(paths)}
    for path, copy in saved.items():
        _copy(path, copy)
    old = {p: state(p) for p in paths}
    hidden_before = hidden_beside(paths)
    ops = run_forked(write)
    new_files = {p: set(state(p)) for p in paths}
    for path, complete in artifacts.items():
        complete(path)
        assert state(path) != old[path], f"{stage}: the new {path.name} equals the old one"
    stays = sorted(p.name for p in hidden_beside(paths) - hidden_before)
    assert not stays, f"{stage}: a finished run leaves {stays}"
    outcome = Outcome(stage, ops, kill_points(ops, budget))
    again = rerun or (lambda held: write())
    seen: set[tuple[str, frozenset[str]]] = set()
    for k in outcome.points:
        for path, copy in saved.items():
            _copy(copy, path)
        assert run_forked(write, kill_at=k) == -KILLED, f"{stage}: not killed at {k} of {ops}"
        held = "old"
        for path, complete in artifacts.items():
            now = state(path)
            if now != old[path]:
                assert set(now) == new_files[path], f"{stage}, killed at {k}: {path} is mixed"
                complete(path)
                held = "new"
        setattr(outcome, held, getattr(outcome, held) + 1)
        left = hidden_beside(paths) - hidden_before
        for debris in sorted(left):
            assert debris not in outputs.visible(debris.parent)
            if debris.name.endswith(".lock"):
                assert held_by_other(debris) is None, f"{debris} still held after the kill"
            outcome.debris.append(debris.name)
            if refuse is not None and debris.is_dir() and outputs.is_staging(debris.name):
                with pytest.raises(CvtoolError, match="staging directory"):
                    refuse(debris)
                outcome.refused += 1
        leftover = (held, frozenset(_kind(p) for p in left))
        if (not left or leftover in seen) and not os.environ.get(POINTS_VARIABLE):
            for debris in left:  # the next kill starts from the old version alone
                _copy(scratch / "missing", debris)
            continue
        seen.add(leftover)
        again(held)  # in this process: only the killed writers need a process of their own
        for path, complete in artifacts.items():
            complete(path)
        stays = sorted(p.name for p in hidden_beside(paths) - hidden_before)
        assert not stays, f"{stage}, killed at {k}: a re-run leaves {stays}"
        outcome.reruns += 1
    outcome.seconds = time.perf_counter() - start
    print(outcome.line())
    assert outcome.old and outcome.new, outcome.line()
    return outcome
