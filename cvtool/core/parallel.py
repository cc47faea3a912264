"""Process-parallel map with a progress bar, for per-image data preparation."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from cvtool.core.console import make_progress

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


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
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for result in pool.map(fn, items, chunksize=chunksize):
                yield result
                progress.advance(task)
