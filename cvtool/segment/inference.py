"""Run a trained segmentation checkpoint over a split and evaluate it.

Images are decoded in worker processes, preprocessed on the device and run in batches
(`cvtool.core.inference.predict_batches`); the logits are upsampled bilinearly to each label
mask's own resolution, so every labelled pixel is scored. The checkpoint's resize is
applied as in validation; its centre crop is not (a crop would leave labelled pixels unscored).
A calibration stored with the run applies to those logits (`apply_calibration`) before the
softmax. Logits that are NaN or Inf are counted, reported and replaced by finite values
(`cvtool.core.finite.NonFiniteOutputs`).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.cache import CacheItem, decoded_samples
from cvtool.core.evaldir import EvalOutcome, EvalSettings
from cvtool.core.finite import NonFiniteOutputs
from cvtool.core.inference import Inference, predict_batches
from cvtool.core.logit_calibration import Calibration, apply_calibration
from cvtool.core.logit_store import LogitStore
from cvtool.segment.evaluate import Batch, run_evaluation
from cvtool.segment.samples import load_labelled_image
from cvtool.segment.split import EvalSplit, SplitItem, load_split


def model_logits(
    checkpoint: Any,
    split: EvalSplit,
    run: Inference,
    action: str = "evaluating",
    cache: str = "none",
    name: str = "",
) -> Iterator[tuple[list[SplitItem], Any, Any]]:
    """Yield `(items, label masks (B, H, W), logits (B, C, H, W))` on `run.device`, the logits
    float32 at the label masks' resolution; the images come from the `cache` named `name`
    (default: the split's) when one is asked for."""
    import torch

    from cvtool.core.transforms import eval_transform

    p = checkpoint.preprocess
    transform = eval_transform(size=p.size, crop=None, mean=p.mean, std=p.std)
    m = split.manifest
    load = partial(load_labelled_image, num_classes=m.num_classes, ignore_index=m.ignore_index)
    items = [CacheItem(item.image, item.mask) for item in split.items]
    key = {"num_classes": m.num_classes, "ignore": m.ignore_index}
    description = f"{action} {len(split.items)} images"
    loaded = decoded_samples(
        cache, split.data_dir, name or split.split, items, load, key, run.workers, description
    )
    samples = zip(split.items, loaded, strict=True)  # (item, (image, label mask))

    def tensor(sample: Any) -> Any:
        return transform(torch.from_numpy(sample[1][0]).permute(2, 0, 1).to(run.device))

    def mask_shape(sample: Any) -> tuple[int, ...]:
        return sample[1][1].shape

    for group, logits in predict_batches(checkpoint.model, samples, tensor, run, mask_shape):
        labels = torch.from_numpy(np.stack([s[1][1] for s in group])).to(run.device)
        if logits.shape[-2:] != labels.shape[-2:]:
            logits = torch.nn.functional.interpolate(
                logits, size=labels.shape[-2:], mode="bilinear", align_corners=False
            )
        yield [s[0] for s in group], labels, logits


def model_batches(
    checkpoint: Any,
    split: EvalSplit,
    run: Inference,
    outputs: NonFiniteOutputs,
    calibration: Calibration | None = None,
    cache: str = "none",
    name: str = "",
) -> Iterator[Batch]:
    """Yield `(items, labels, probabilities, predictions, raw probabilities)` batches on
    `run.device`: with a `calibration`, the probabilities and predictions are the calibrated
    model's and the raw ones come beside; without, the raw probabilities are None. NaN and Inf
    logits are counted in `outputs` and replaced (see `NonFiniteOutputs`)."""
    for items, labels, logits in model_logits(checkpoint, split, run, cache=cache, name=name):
        logits = outputs.clean(logits)
        probs = apply_calibration(logits, calibration).softmax(dim=1)  # float32, also under AMP
        raw = None if calibration is None else logits.softmax(dim=1)
        yield items, labels, probs, probs.argmax(dim=1), raw


def collect_pixels(
    checkpoint: Any,
    split: EvalSplit,
    run: Inference,
    store: LogitStore,
    fraction: float | None = None,
    seed: int = 0,
) -> None:
    """Append the logits and labels of the split's labelled pixels (ignored ones left out) to
    `store`; with `fraction`, each pixel is kept with that probability (uniformly, seeded)."""
    import torch

    rng = np.random.default_rng(seed)
    n, ignore = checkpoint.num_classes, split.manifest.ignore_index
    for _, labels, logits in model_logits(checkpoint, split, run, "calibrating on"):
        for b in range(len(labels)):
            keep = labels[b] != ignore
            if fraction is not None:
                keep &= torch.from_numpy(rng.random(tuple(keep.shape)) < fraction).to(keep.device)
            flat = keep.reshape(-1)
            store.append(logits[b].reshape(n, -1)[:, flat].T, labels[b].reshape(-1)[flat])


def evaluate_segmentation(
    checkpoint: Any,
    data_dir: Path,
    split: str,
    out: Path,
    settings: EvalSettings,
    shard: tuple[int, int] | None,
    inference: Inference,
    source: dict[str, Any],
    title: str,
    calibration: Calibration | None = None,
) -> EvalOutcome:
    """Score a loaded segmentation checkpoint on `split` of `data_dir` into the eval dir `out`
    (with `calibration` applied to its logits, when given)."""
    eval_split = load_split(data_dir, split, shard=shard)
    name = split if shard is None else f"{split}.shard{shard[0]}of{shard[1]}"
    outputs = NonFiniteOutputs(dense=True)
    batches = model_batches(
        checkpoint, eval_split, inference, outputs, calibration, settings.cache, name
    )
    with_raw = calibration is not None
    return run_evaluation(
        out, eval_split, batches, True, source, settings, shard, title, with_raw, outputs
    )
