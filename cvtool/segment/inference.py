"""Run a trained segmentation checkpoint over a split and evaluate it.

Images are decoded in worker processes (`parallel_map`), preprocessed on the device, batched,
run with `torch.inference_mode` (AMP on CUDA), and the logits are upsampled bilinearly to each
label mask's own resolution, so every labelled pixel is scored. The checkpoint's resize is
applied as in validation; its centre crop is not (a crop would leave labelled pixels unscored).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.parallel import parallel_map
from cvtool.segment.evaluate import Batch, EvalOutcome, EvalSettings, run_evaluation
from cvtool.segment.samples import load_labelled_image
from cvtool.segment.split import EvalSplit, SplitItem, load_split


def model_batches(
    checkpoint: Any,
    split: EvalSplit,
    batch_size: int,
    device: Any,
    amp: bool,
    workers: int | None,
) -> Iterator[Batch]:
    """Yield `(items, labels, probabilities, predictions)` batches on `device`."""
    import torch

    from cvtool.core.transforms import eval_transform

    p = checkpoint.preprocess
    transform = eval_transform(size=p.size, crop=None, mean=p.mean, std=p.std)
    m = split.manifest
    load = partial(load_labelled_image, num_classes=m.num_classes, ignore_index=m.ignore_index)
    model = checkpoint.model.to(device).eval()
    autocast = device.type == "cuda" and amp
    pending: list[tuple[SplitItem, np.ndarray, np.ndarray]] = []

    def run(group: list[tuple[SplitItem, np.ndarray, np.ndarray]]) -> Batch:
        items = [g[0] for g in group]
        images = torch.stack([transform(torch.from_numpy(g[1]).to(device)) for g in group])
        labels = torch.from_numpy(np.stack([g[2] for g in group])).to(device)
        with torch.inference_mode():
            with torch.autocast(device.type, enabled=autocast):
                logits = model(images)
            logits = logits.float()  # softmax and upsampling in float32, also under AMP
            if logits.shape[-2:] != labels.shape[-2:]:
                logits = torch.nn.functional.interpolate(
                    logits, size=labels.shape[-2:], mode="bilinear", align_corners=False
                )
            probs = logits.softmax(dim=1)
        return items, labels, probs, probs.argmax(dim=1)

    samples = parallel_map(load, split.items, workers, f"evaluating {len(split.items)} images")
    for item, (image, mask) in zip(split.items, samples, strict=True):
        if pending and (
            len(pending) == batch_size
            or pending[0][1].shape != image.shape
            or pending[0][2].shape != mask.shape
        ):
            yield run(pending)
            pending = []
        pending.append((item, image, mask))
    if pending:
        yield run(pending)


def evaluate_segmentation(
    checkpoint: Any,
    data_dir: Path,
    split: str,
    out: Path,
    settings: EvalSettings,
    shard: tuple[int, int] | None,
    inference: Any,
    source: dict[str, Any],
    title: str,
) -> EvalOutcome:
    """Score a loaded segmentation checkpoint on `split` of `data_dir` into the eval dir `out`."""
    from cvtool.engine.checkpoint import check_classes

    eval_split = load_split(data_dir, split, shard=shard)
    check_classes(checkpoint, eval_split.manifest, data_dir)
    batches = model_batches(
        checkpoint,
        eval_split,
        inference.batch_size,
        inference.device,
        inference.amp,
        settings.workers,
    )
    return run_evaluation(out, eval_split, batches, True, source, settings, shard, title)
