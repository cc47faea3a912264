"""Process-parallel map with a progress bar, for per-image data preparation."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from cvtool.core.console import make_progress
from cvtool.core.threads import single_thread, usable_cores

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    """All cores this process may use (its affinity, within its cgroup's CPU quota)."""
    return usable_cores()


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
    Each worker runs one thread (`cvtool.core.threads.single_thread`).
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
        with ProcessPoolExecutor(max_workers=workers, initializer=single_thread) as pool:
            for result in pool.map(fn, items, chunksize=chunksize):
                yield result
                progress.advance(task)
