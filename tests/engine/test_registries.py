"""The contract of every registry entry: models, losses, optimizers, schedules.

A new entry is covered here without a new test: every model builds offline (its parameters'
`quick` values) and runs forward and backward on the CPU at an odd input size, with logits at
the input size; every loss, optimizer and schedule builds and steps; the CLI renders every
model parameter as an option.
"""

from __future__ import annotations

import pytest
import torch

from cvtool.engine.losses import LOSSES, build_loss
from cvtool.engine.optim import OPTIMIZERS, SCHEDULERS, build_optimizer, build_scheduler
from cvtool.engine.registry import MODELS

ODD_SIZE = {"segmentation": (33, 47), "classification": (35, 35)}


def quick_kwargs(name: str) -> dict:
    return {p.name: p.quick for p in MODELS[name].params if p.quick is not None}


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_runs_forward_and_backward_at_an_odd_size(name: str) -> None:
    spec = MODELS[name]
    torch.manual_seed(0)
    model = spec.build(5, **spec.kwargs(quick_kwargs(name)))
    size = ODD_SIZE[spec.task]
    x = torch.randn(2, 3, *size)  # 2 images: batch norm needs more than one value in training
    logits = model(x)
    assert isinstance(logits, torch.Tensor)
    assert logits.shape == ((2, 5, *size) if spec.task == "segmentation" else (2, 5))
    logits.mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_parameter_is_a_cli_option(cli, name: str) -> None:
    result = cli("train", name, "--help")
    assert result.exit_code == 0
    for param in MODELS[name].params:
        assert "--" + param.name.replace("_", "-") in result.stdout, param.name


@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_builds_and_steps(name: str) -> None:
    torch.manual_seed(0)
    logits = torch.randn(2, 2, 5, 7, requires_grad=True)
    target = torch.randint(0, 2, (2, 5, 7))
    target[0, 0, :3] = 255
    loss = build_loss(name, 2, class_weights=[1.0, 2.0])(logits, target)
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    assert logits.grad is not None and logits.grad[0, :, 0, :3].abs().sum() == 0


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_builds_and_steps(name: str) -> None:
    weight = torch.nn.Parameter(torch.ones(3))
    optimizer = build_optimizer(name, [weight], lr=0.1, momentum=0.9, weight_decay=1e-4)
    (weight**2).sum().backward()
    optimizer.step()
    assert (weight < 1).all()


def _lrs(name: str, total: int, start: int, steps: int, optimizer=None) -> list[float]:
    weight = torch.nn.Parameter(torch.ones(1))
    optimizer = optimizer or build_optimizer("sgd", [weight], lr=0.1)
    scheduler = build_scheduler(name, optimizer, lr=0.1, total_steps=total, start_step=start)
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_every_schedule_steps_and_rebuilds_at_any_step(name: str) -> None:
    """A schedule is a function of (step, total): rebuilt at step 6 of 10 it continues the
    10-step schedule, and rebuilt for 14 steps at step 10 (training further) it follows the
    14-step schedule from there, for every schedule."""
    full = _lrs(name, 10, 0, 10)
    assert all(lr >= 0 for lr in full)
    weight = torch.nn.Parameter(torch.ones(1))
    optimizer = build_optimizer("sgd", [weight], lr=0.1)
    first = build_scheduler(name, optimizer, lr=0.1, total_steps=10)
    for _ in range(6):
        optimizer.step()
        first.step()
    state = optimizer.state_dict()

    def resumed(total: int, start: int, steps: int) -> list[float]:
        fresh = build_optimizer("sgd", [torch.nn.Parameter(torch.ones(1))], lr=0.1)
        fresh.load_state_dict(state)
        return _lrs(name, total, start, steps, fresh)

    assert resumed(10, 6, 4) == pytest.approx(full[6:], rel=1e-12)
    longer = _lrs(name, 14, 0, 14)
    assert resumed(14, 6, 8) == pytest.approx(longer[6:], rel=1e-12)
