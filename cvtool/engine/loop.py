"""One epoch: a training pass and a validation pass, and the epoch's row of metrics.

All randomness of an epoch (shuffling, oversampling draws, augmentation, mixup, dropout) is
re-seeded from `(seed, epoch)` when it starts, so an epoch does not depend on what ran before it
in this process: a resumed run continues exactly as an uninterrupted one (on CPU).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch

from cvtool.core.confusion import ConfusionMatrix
from cvtool.core.console import make_progress
from cvtool.engine import distributed
from cvtool.engine.mixup import mixed_loss, mixup
from cvtool.engine.setup import RunSetup


def _seed_epoch(run: RunSetup, epoch: int) -> np.random.Generator:
    index = epoch - 1  # seeds of the 0-based epoch index, as runs have always used
    seed = run.cfg.seed * 100_003 + index
    torch.manual_seed(seed)
    run.loader_generator.manual_seed(seed)
    run.train_sampler.set_epoch(index)
    return np.random.default_rng(seed)


def _step(run: RunSetup, loss: torch.Tensor) -> None:
    run.optimizer.zero_grad(set_to_none=True)
    run.scaler.scale(loss).backward()
    run.scaler.step(run.optimizer)
    run.scaler.update()
    run.scheduler.step()


def run_pass(
    run: RunSetup, loader: Any, label: str, rng: np.random.Generator | None
) -> tuple[float, ConfusionMatrix]:
    """One pass over `loader`: training when `rng` is given, else evaluation. Returns the mean
    loss over images (all ranks) and the confusion matrix of the predictions."""
    training = rng is not None
    run.net.train(training)
    cm = ConfusionMatrix(run.dataset.num_classes, run.dataset.ignore_index)
    loss_sum, seen = torch.zeros((), device=run.device), 0
    with make_progress(transient=not training) as progress:
        task = progress.add_task(label, total=len(loader), status="", visible=run.ctx.is_main)
        for step, (images, targets) in enumerate(loader, start=1):
            images = images.to(run.device, non_blocking=True)
            targets = targets.to(run.device, non_blocking=True)
            if run.batch_augment is not None:
                masks = targets if run.segmentation else None
                images, masks = run.batch_augment(images, masks, training)
                targets = masks if run.segmentation else targets
            if run.channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            mixed = None
            if training and run.cfg.mixup > 0:
                mixed = mixup(images, targets, run.cfg.mixup, rng)
            with torch.autocast(run.device.type, enabled=run.amp):
                logits = run.net(mixed.inputs if mixed else images)
                loss = (
                    mixed_loss(run.criterion, logits, mixed)
                    if mixed
                    else run.criterion(logits, targets)
                )
            if training:
                _step(run, loss)
            loss_sum += loss.detach() * images.shape[0]
            seen += images.shape[0]
            cm.update(logits.detach().argmax(1), mixed.dominant_targets if mixed else targets)
            progress.advance(task)
            if step % 10 == 0 or step == len(loader):
                progress.update(task, status=f"loss {loss_sum.item() / seen:.4f}")
    total, count = distributed.all_reduce_sum([loss_sum.item(), float(seen)], run.device)
    return total / max(count, 1.0), cm


def run_epoch(run: RunSetup, epoch: int) -> dict[str, Any]:
    """Train and validate 1-based epoch `epoch`; its history row: `epoch`, `lr` (at the epoch
    start), loss, accuracy (and mIoU for segmentation) of both splits, `time_s`.

    A non-finite training loss (the same on every rank: it is reduced over them) skips the
    validation pass: the run diverged (`cvtool.engine.divergence`), and the row has no `val_`
    entries."""
    start = time.perf_counter()
    rng = _seed_epoch(run, epoch)
    lr = run.optimizer.param_groups[0]["lr"]
    label = f"epoch {epoch}/{run.cfg.epochs}"
    passes = [("train", *run_pass(run, run.train_loader, f"{label} train", rng))]
    if math.isfinite(passes[0][1]):
        with torch.no_grad():
            passes.append(("val", *run_pass(run, run.val_loader, f"{label} val", None)))
    row: dict[str, Any] = {"epoch": epoch, "lr": lr}
    for split, loss, cm in passes:
        scores = cm.all_reduce().compute()
        row[f"{split}_loss"] = loss
        row[f"{split}_accuracy"] = scores.pixel_accuracy
        if run.segmentation:
            row[f"{split}_miou"] = scores.miou
    row["time_s"] = round(time.perf_counter() - start, 3)
    return row
