"""Commands run as child processes, signalled as a terminal or a supervisor would, and checks of
what they print and leave running."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO_ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("stuck_worker.py")


def child_env() -> dict[str, str]:
    """This checkout first on the path; one thread per process (the tests share the cores)."""
    path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}


def run_cvtool(*args: object, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python -m cvtool ARGS...` to completion (killed, and the test failed, after `timeout`)."""
    cmd = [sys.executable, "-m", "cvtool", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=child_env())


def alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped, does not count)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def assert_gone(pids: list[int], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [p for p in pids if alive(p)]
    for pid in survivors:  # do not leave them behind for the next test
        os.kill(pid, signal.SIGKILL)
    assert not survivors, f"worker processes {survivors} outlived their parent by {within} s"


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(("error:", "hint:"))]


@dataclass
class StuckRun:
    """`cvtool ARGS...` in a session of its own, with `target` hanging in its workers (see
    stuck_worker.py); stderr goes to a file, so a full pipe never blocks it."""

    proc: subprocess.Popen[bytes]
    pid_dir: Path
    err_file: Path

    @classmethod
    def start(cls, tmp_path: Path, target: str, mode: str, *args: object) -> StuckRun:
        pid_dir = tmp_path / "worker-pids"
        pid_dir.mkdir()
        err_file = tmp_path / "stderr.txt"
        cmd = [sys.executable, str(DRIVER), str(pid_dir), target, mode, *map(str, args)]
        with err_file.open("wb") as err:
            proc = subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=err, env=child_env(),
                start_new_session=True,
            )  # fmt: skip
        return cls(proc, pid_dir, err_file)

    @property
    def stderr(self) -> str:
        return self.err_file.read_text()

    def stuck_workers(self, count: int, timeout: float = 90) -> list[int]:
        """The pids of the first `count` workers that got stuck (fails if the command ends)."""
        deadline = time.monotonic() + timeout
        while len(pids := [int(p.name) for p in self.pid_dir.iterdir()]) < count:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                code = self.proc.returncode
                raise AssertionError(f"no {count} stuck workers (exit {code}):\n{self.stderr}")
            time.sleep(0.05)
        return pids

    def signal(self, signum: int, group: bool, timeout: float = 20) -> tuple[int, float]:
        """Send `signum` to the command (`group`: to its whole process group, as Ctrl-C in a
        terminal does); its exit code and the seconds it took to exit."""
        start = time.monotonic()
        if group:
            os.killpg(self.proc.pid, signum)
        else:
            self.proc.send_signal(signum)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"still running {timeout} s after signal {signum}") from None
        return code, time.monotonic() - start

    def kill(self) -> None:
        """Kill the whole session (a failed test leaves nothing running)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
