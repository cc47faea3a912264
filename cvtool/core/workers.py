"""Worker processes that never outlive their parent and stop when told to.

Every worker process cvtool starts (`parallel_map` pools, DataLoader workers) runs
`init_worker` first:

- its signals (`cvtool.core.signals.worker_signals`): Ctrl-C is the parent's to report;
- a death signal: on Linux `prctl(PR_SET_PDEATHSIG, SIGKILL)`, so the kernel kills the worker
  when its parent dies, however it dies (SIGKILL and out-of-memory kills included); elsewhere a
  thread that polls the parent's pid;
- one thread (`cvtool.core.threads.single_thread`).

`stop_processes` stops workers: SIGTERM, then SIGKILL for those still alive after a second
(stuck in native code with SIGTERM blocked). `stop_workers` does that for every worker this
process started; the command line calls it when a command fails or is interrupted, so no
unfinished task keeps the process from exiting.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess

from cvtool.core.signals import worker_signals
from cvtool.core.threads import single_thread

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
GRACE_S = 1.0  # how long a stopped worker may take to exit before it is killed
WATCH_INTERVAL_S = 0.5  # the parent-pid poll where the death signal is missing


def worker_context() -> BaseContext:
    """Fork on Linux (as Python 3.11 and torch do by default there), so that a worker's parent
    is the process that asked for it, which `init_worker` checks; the platform's default
    (spawn) elsewhere."""
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)


def _set_death_signal() -> bool:
    """`prctl(PR_SET_PDEATHSIG, SIGKILL)`; False where there is no such call."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_INTERVAL_S)
    os._exit(1)


def die_with_parent(parent_pid: int) -> None:
    """End this process when `parent_pid`, its parent, ends. (For the kernel the parent is
    the thread that started the worker: a pool is started and used by one thread.)"""
    if _set_death_signal():
        if os.getppid() != parent_pid:  # the parent died before the death signal was set
            os._exit(1)
        return
    watcher = threading.Thread(
        target=_watch_parent, args=(parent_pid,), name="cvtool-parent-watch", daemon=True
    )
    watcher.start()


def init_worker(parent_pid: int, default_sigterm: bool = True) -> None:
    """The first thing a worker process does (`ProcessPoolExecutor(initializer=...)`, with
    `initargs=(os.getpid(),)` evaluated in the parent)."""
    worker_signals(default_sigterm)
    die_with_parent(parent_pid)
    single_thread()


def init_loader_worker(parent_pid: int, worker_id: int) -> None:
    """`DataLoader(worker_init_fn=partial(init_loader_worker, os.getpid()))`. Torch's workers
    exit quietly on their parent's SIGTERM (a C handler, effective in native code too), so
    that handler stays."""
    del worker_id
    init_worker(parent_pid, default_sigterm=False)


def stop_processes(processes: Sequence[BaseProcess], grace: float = GRACE_S) -> None:
    """Terminate `processes`, kill those still alive after `grace` seconds, and reap them."""
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.kill()
            process.join(grace)


def stop_workers() -> None:
    """Stop every worker process this process started and that is still running."""
    stop_processes(multiprocessing.active_children())
