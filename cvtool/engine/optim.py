"""Optimizers and learning-rate schedules: plain name -> factory registries.

Importing this module is cheap (torch is imported by the factories). Adding an optimizer or a
schedule is one function and one dict entry; `tests/engine/test_registries.py` builds and steps
every entry.

A schedule is stepped once per training iteration and is a function of `(step, total_steps)`
only (the optimizer state carries the rest), so `build_scheduler` can rebuild it at any step:
a resumed run continues exactly where it stopped, and a run trained further (more epochs) follows
the schedule rebuilt for the new total from the step it reached.

>>> optimizer = build_optimizer("adam", model.parameters(), lr=1e-3)
>>> scheduler = build_scheduler("onecycle", optimizer, lr=1e-3, total_steps=800)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from cvtool.core.errors import ParameterError

OptimizerFactory = Callable[..., Any]  # (params, *, lr, momentum, weight_decay) -> Optimizer
ScheduleFactory = Callable[..., Any]  # (optimizer, *, lr, total_steps, last_step) -> LRScheduler


def _sgd(params: Iterable[Any], *, lr: float, momentum: float, weight_decay: float) -> Any:
    import torch

    return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


def _adam(params: Iterable[Any], *, lr: float, momentum: float, weight_decay: float) -> Any:
    import torch

    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)


def _adamw(params: Iterable[Any], *, lr: float, momentum: float, weight_decay: float) -> Any:
    import torch

    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)


OPTIMIZERS: dict[str, OptimizerFactory] = {"sgd": _sgd, "adam": _adam, "adamw": _adamw}


def _multiplier(fn: Callable[[int, int], float]) -> ScheduleFactory:
    """A schedule that multiplies the base learning rate by `fn(step, total_steps)`."""

    def factory(optimizer: Any, *, lr: float, total_steps: int, last_step: int) -> Any:
        from torch.optim.lr_scheduler import LambdaLR

        return LambdaLR(optimizer, lambda step: fn(step, total_steps), last_epoch=last_step)

    return factory


def _onecycle(optimizer: Any, *, lr: float, total_steps: int, last_step: int) -> Any:
    from torch.optim.lr_scheduler import OneCycleLR

    return OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps, last_epoch=last_step)


SCHEDULERS: dict[str, ScheduleFactory] = {
    "none": _multiplier(lambda step, total: 1.0),
    "onecycle": _onecycle,
    "cosine": _multiplier(lambda step, total: 0.5 * (1 + math.cos(math.pi * step / total))),
    "poly": _multiplier(lambda step, total: max(0.0, 1 - step / total) ** 0.9),
}


def _lookup(registry: dict[str, Any], name: str, param: str) -> Any:
    try:
        return registry[name]
    except KeyError:
        raise ParameterError(
            f"unknown {param} {name!r}; valid: {', '.join(registry)}", param
        ) from None


def build_optimizer(
    name: str,
    params: Iterable[Any],
    *,
    lr: float,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
) -> Any:
    """The optimizer `name` over `params` (`momentum` is used by SGD only)."""
    factory = _lookup(OPTIMIZERS, name, "optimizer")
    return factory(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


def build_scheduler(
    name: str, optimizer: Any, *, lr: float, total_steps: int, start_step: int = 0
) -> Any:
    """The schedule `name` over `total_steps` iterations, positioned at `start_step`.

    With `start_step > 0` the optimizer must carry the state of an optimizer that was scheduled
    before (its `initial_lr`); the learning rate is set to the schedule's value at that step."""
    factory = _lookup(SCHEDULERS, name, "scheduler")
    total = max(1, total_steps, start_step)
    return factory(optimizer, lr=lr, total_steps=total, last_step=start_step - 1)
