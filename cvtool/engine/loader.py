"""The training loaders: DataLoaders whose workers stop with the run, and whose errors come out
as they were raised.

Torch re-raises a worker's exception in the main process as a new one of the same type, built
from the worker's formatted traceback ("Caught CvtoolError in DataLoader worker process 0 ...
Original Traceback ..."), which drops a `CvtoolError`'s hint. Here a sample's exception travels
back as data instead (`WorkerFailure`, the exception pickled whole), and `WorkerLoader` raises
it in the main process as the worker raised it, the worker's traceback as its cause (shown by
`--debug`).

Workers start with SIGINT and SIGTERM held and die with the main process
(`cvtool.core.workers.init_loader_worker`); an iteration that ends early (an error, Ctrl-C)
terminates its workers at once rather than waiting for each one in turn.
"""

from __future__ import annotations

import os
import pickle
import traceback
from collections.abc import Iterator
from functools import partial
from typing import Any, NoReturn

import torch
from torch.utils.data import default_collate

from cvtool.core.signals import held_signals
from cvtool.core.workers import init_loader_worker, worker_context


class WorkerTraceback(Exception):
    """Where a worker raised an exception: the text of its traceback."""


class WorkerFailure:
    """An exception raised in a worker process, carried to the main process as a sample."""

    def __init__(self, error: Exception) -> None:
        self.trace = "".join(traceback.format_exception(error))
        try:  # unpicklable, or not rebuilt from its pickle: keep its type name and text
            pickle.loads(pickle.dumps(error))
            self.error: Exception = error
        except Exception:
            self.error = RuntimeError(f"{type(error).__name__}: {error}")

    def reraise(self) -> NoReturn:
        raise self.error from WorkerTraceback(self.trace)


class _Guarded(torch.utils.data.Dataset):
    """`dataset`, with each item's exception returned as a `WorkerFailure`."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Any:
        try:
            return self.dataset[index]
        except Exception as e:
            return WorkerFailure(e)


def _collate(samples: list[Any]) -> Any:
    """The batch, or the first failure among its samples."""
    failure = next((s for s in samples if isinstance(s, WorkerFailure)), None)
    return failure if failure is not None else default_collate(samples)


def _stop(iterator: Any) -> None:
    """Stop an unfinished iteration's workers now. Torch's shutdown asks them to exit and waits
    5 s for each one that does not; its workers exit quietly on their parent's SIGTERM."""
    for process in getattr(iterator, "_workers", ()):
        if process.is_alive():
            process.terminate()
    shutdown = getattr(iterator, "_shutdown_workers", None)
    if shutdown is not None:
        shutdown()


class WorkerLoader(torch.utils.data.DataLoader):
    """A DataLoader over `dataset` with `workers` worker processes (0: in the main process);
    `kwargs` are the DataLoader's own (`pin_memory`, `generator`, ...)."""

    def __init__(
        self, dataset: Any, batch_size: int, sampler: Any, workers: int, **kwargs: Any
    ) -> None:
        if workers > 0:
            kwargs |= {
                "collate_fn": _collate,
                "worker_init_fn": partial(init_loader_worker, os.getpid()),
                "multiprocessing_context": worker_context(),
            }
            dataset = _Guarded(dataset)
        super().__init__(
            dataset, batch_size=batch_size, sampler=sampler, num_workers=workers, **kwargs
        )

    def __iter__(self) -> Iterator[Any]:
        batches = None
        try:
            with held_signals():  # the workers start here
                batches = super().__iter__()
            for batch in batches:
                if isinstance(batch, WorkerFailure):
                    batch.reraise()
                yield batch
        except BaseException:
            if batches is not None and self.num_workers > 0:
                _stop(batches)
            raise
