"""Run a classifier over a split in batches: logits and, on request, the
penultimate-layer features (the input of the last linear layer, taken with a forward hook).

Images are decoded in worker processes (no torch there), preprocessed on the device exactly as
in validation (the checkpoint's resize, centre crop and normalisation) and run in batches of
equal-size images (`cvtool.core.inference.predict_batches`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from cvtool.classify.dataset import decode_image
from cvtool.classify.split import ClassSplit
from cvtool.core.cache import CacheItem, decoded_samples
from cvtool.core.inference import Inference, predict_batches
from cvtool.core.logit_store import LogitStore


@dataclass
class PredictedBatch:
    """Split positions `start:start+len(logits)`, logits `(B, C)` float32 on the device, and
    penultimate features `(B, D)` float32 on the CPU (None unless asked for)."""

    start: int
    logits: Any
    features: np.ndarray | None


def penultimate_layer(model: Any) -> Any:
    """The classifier's last `nn.Linear` (ResNet's `fc`, the convnet's `classifier`): its input
    is the penultimate representation (pooled 512-d for ResNet-18, flattened maps for convnet)."""
    from torch import nn

    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(model).__name__} has no linear layer to take features from")
    return linears[-1]


def predict_split(
    checkpoint: Any,
    split: ClassSplit,
    run: Inference,
    features: bool = False,
    cache: str = "none",
) -> Iterator[PredictedBatch]:
    """Yield the model's predictions for every image of `split`, in order (its images read
    from the `cache` of the split when one is asked for)."""
    import torch

    from cvtool.core.transforms import eval_transform

    transform = eval_transform(**checkpoint.preprocess.to_dict())
    captured: list[Any] = []
    hook = None
    if features:
        layer = penultimate_layer(checkpoint.model)
        hook = layer.register_forward_pre_hook(lambda _m, args: captured.append(args[0]))

    def tensor(sample: tuple[int, tuple[np.ndarray, None]]) -> Any:
        return transform(torch.from_numpy(sample[1][0]).permute(2, 0, 1).to(run.device))

    description = f"{'features of' if features else 'classifying'} {split.split} images"
    items = [CacheItem(path) for path in split.paths]
    images = decoded_samples(
        cache, split.data_dir, split.split, items, decode_image, {}, run.workers, description
    )
    try:
        for group, logits in predict_batches(checkpoint.model, enumerate(images), tensor, run):
            feats = captured[0].float().flatten(1).cpu().numpy() if features else None
            captured.clear()
            yield PredictedBatch(group[0][0], logits, feats)
    finally:
        if hook is not None:
            hook.remove()


def collect_logits(checkpoint: Any, split: ClassSplit, run: Inference, store: LogitStore) -> None:
    """Append the logits and labels of every image of `split` to `store`."""
    for out in predict_split(checkpoint, split, run):
        store.append(out.logits, split.labels[out.start : out.start + len(out.logits)])
