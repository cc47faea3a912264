"""One writer per output: a lock file beside the output, naming the process that holds it.

`output_lock(out)` holds `.NAME.lock` (beside `out`) for the duration of a write. The file
records the owner's pid, host, start time and command, so a second writer is refused with a
message that names the first. The lock itself is an advisory `flock` on that file: the system
releases it when its process ends, however it ends, so a lock left by a killed process is stale
and the next writer takes it over. Where `fcntl` is missing (Windows) the recorded pid decides:
a lock whose pid is not running on this host is stale.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cvtool.core.errors import CvtoolError
from cvtool.core.provenance import invocation, utc_now

try:
    import fcntl
except ImportError:  # Windows: the recorded pid decides, see the module docstring
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Owner:
    """Who holds (or last held) a lock."""

    pid: int
    host: str
    since: str
    command: str

    @classmethod
    def me(cls) -> Owner:
        return cls(os.getpid(), socket.gethostname(), utc_now(), invocation())

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, since {self.since} ({self.command})"

    def alive(self) -> bool:
        """Whether the owner may still run (a process on another host is assumed to)."""
        if self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # running, under another user
            return True
        return True


def lock_path(out: str | os.PathLike[str]) -> Path:
    """`.NAME.lock` beside `out`: hidden, so no reader takes it for an artifact."""
    out = Path(out)
    return out.parent / f".{out.name}.lock"


def _read_owner(fd: int) -> Owner | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = json.loads(os.read(fd, 65536).decode("utf-8"))
        return Owner(int(raw["pid"]), str(raw["host"]), str(raw["since"]), str(raw["command"]))
    except (ValueError, KeyError, TypeError):  # empty (being written) or not ours
        return None


def _try_lock(fd: int) -> bool:
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    owner = _read_owner(fd)
    return owner is None or not owner.alive()


def _same_file(fd: int, path: Path) -> bool:
    """Whether `path` still names the open file `fd` (a releasing owner unlinks it)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


class OutputLock:
    """The lock of output `out`; `acquire()` or refuse, `release()` when done.

    `stale` is set when the lock was taken over from a process that no longer runs.
    """

    def __init__(self, out: str | os.PathLike[str], param: str = "out") -> None:
        self.out = Path(out)
        self.path = lock_path(self.out)
        self.param = param
        self.stale: Owner | None = None
        self._fd: int | None = None

    def acquire(self) -> OutputLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if not _try_lock(fd):
                owner = _read_owner(fd)
                os.close(fd)
                who = owner.describe() if owner else "another process"
                raise CvtoolError(
                    f"output {self.out} is being written by {who}",
                    f"wait until it has finished, or choose another output; its lock is "
                    f"{self.path}",
                    param=self.param,
                )
            if _same_file(fd, self.path):
                break
            os.close(fd)  # the previous owner removed it meanwhile: lock the new file
        self.stale = _read_owner(fd)
        data = json.dumps(asdict(Owner.me())).encode("utf-8")
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, data)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        # Unlink while still locked: a waiter that opened the old file sees it is gone.
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


def held_by_other(path: Path) -> Owner | None:
    """The live owner of lock file `path`, or None when nobody else holds it."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        if _try_lock(fd):
            return None  # free (closing the descriptor releases it again)
        return _read_owner(fd) or Owner(-1, "?", "?", "unknown")
    finally:
        os.close(fd)


@contextlib.contextmanager
def output_lock(out: str | os.PathLike[str], param: str = "out") -> Iterator[OutputLock]:
    """Hold the lock of `out` inside the block (see `OutputLock`)."""
    with OutputLock(out, param) as lock:
        yield lock
