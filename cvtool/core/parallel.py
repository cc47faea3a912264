"""Process-parallel map with a progress bar, for per-image data preparation.

The pool never outlives the map: when the map fails, is interrupted, or is abandoned (its
consumer failed), pending tasks are cancelled and the workers are terminated, killed if they
do not stop at once (a worker stuck in native code). `ProcessPoolExecutor`'s own exit would
wait for every running task, for ever if one never ends.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import TypeVar

from cvtool.core.console import make_progress
from cvtool.core.errors import CvtoolError
from cvtool.core.signals import held_signals
from cvtool.core.threads import usable_cores
from cvtool.core.workers import init_worker, stop_processes, worker_context

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    """All cores this process may use (its affinity, within its cgroup's CPU quota)."""
    return usable_cores()


@contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A process pool (`cvtool.core.workers.init_worker` in each worker), shut down normally
    when the block ends and stopped when it raises, a generator's `close()` included."""
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=worker_context(),
        initializer=init_worker,
        initargs=(os.getpid(),),
    )
    try:
        yield pool
    except BaseException:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        stop_processes(processes)
        raise
    pool.shutdown(wait=True)


def parallel_map(
    fn: Callable[[T], R],
    items: Sequence[T],
    workers: int | None = None,
    description: str = "working",
    chunksize: int | None = None,
) -> Iterator[R]:
    """Yield `fn(item)` for each item, in order, using `workers` processes (1 = in-process).

    `fn` must be picklable (a module-level function or a `functools.partial` of one).
    Results stream back in order, so memory stays bounded by the chunk size, not the dataset.
    Each worker runs one thread (`cvtool.core.threads.single_thread`). An exception raised by
    `fn` in a worker is raised here as it was (a `CvtoolError` with its hint).
    """
    workers = default_workers() if workers is None else max(1, workers)
    with make_progress() as progress:
        task = progress.add_task(description, total=len(items), status="")
        if workers == 1 or len(items) <= 1:
            for item in items:
                yield fn(item)
                progress.advance(task)
            return
        chunksize = chunksize or max(1, min(32, len(items) // (workers * 4)))
        with worker_pool(workers) as pool:
            with held_signals():  # the workers start here, with SIGINT and SIGTERM held
                results = pool.map(fn, items, chunksize=chunksize)
            try:
                for result in results:
                    yield result
                    progress.advance(task)
            except BrokenProcessPool as e:
                if e.__cause__ is not None:  # a result that could not be unpickled
                    raise
                raise CvtoolError(
                    f"a worker process of {description!r} ended abruptly (killed, or out of "
                    "memory)",
                    "run again with fewer `workers`, or look for what killed it (dmesg)",
                ) from None
