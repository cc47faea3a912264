"""Run a trained segmentation checkpoint over a split and evaluate it.

Images are decoded in worker processes (`parallel_map`), preprocessed on the device, batched,
run with `torch.inference_mode` (AMP on CUDA), and the logits are upsampled bilinearly to each
label mask's own resolution, so every labelled pixel is scored. The checkpoint's resize is
applied as in validation; its centre crop is not (a crop would leave labelled pixels unscored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.artifacts import DatasetManifest
from cvtool.errors import CvtoolError
from cvtool.evaluate.runner import Batch, EvalOutcome, EvalSettings, run_evaluation
from cvtool.evaluate.samples import load_labelled_image
from cvtool.evaluate.split import EvalSplit, SplitItem, load_split
from cvtool.parallel import parallel_map


def pick_device(device: str | None) -> Any:
    """`device` as a torch device; by default CUDA when available, else CPU."""
    import torch

    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except RuntimeError as e:
        raise CvtoolError(f"--device {device!r} is not a torch device ({e})") from None
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise CvtoolError(f"--device {device} asked for CUDA, but no CUDA device is available")
    return chosen


def check_classes(checkpoint: Any, manifest: DatasetManifest, data_dir: Path) -> None:
    """Refuse a dataset whose classes (or ignore index) differ from the checkpoint's."""
    mine = [c.name for c in checkpoint.classes]
    theirs = manifest.class_names
    if mine != theirs:
        raise CvtoolError(
            f"checkpoint {checkpoint.path} was trained on {len(mine)} classes ({', '.join(mine)}) "
            f"but {data_dir / 'dataset.json'} defines {len(theirs)} "
            f"({', '.join(theirs)})",
            "evaluate on a dataset prepared with the same classes",
        )
    if checkpoint.ignore_index != manifest.ignore_index:
        raise CvtoolError(
            f"checkpoint {checkpoint.path} uses ignore index {checkpoint.ignore_index} but "
            f"{data_dir / 'dataset.json'} uses {manifest.ignore_index}"
        )


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

    from cvtool.data.transforms import eval_transform

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


def evaluate_checkpoint(
    run: str | os.PathLike[str],
    data: str | os.PathLike[str] | None = None,
    split: str = "test",
    out: str | os.PathLike[str] | None = None,
    settings: EvalSettings | None = None,
    shard: tuple[int, int] | None = None,
    batch_size: int = 4,
    device: str | None = None,
    amp: bool = True,
) -> EvalOutcome:
    """Evaluate a run dir (its best checkpoint, else last) or a checkpoint file on a split.

    Segmentation or classification, as the checkpoint says (see `cvtool.evaluate.classify`
    for classifiers, which take no `shard`). Writes `RUN/eval-SPLIT` by default
    (`eval-SPLIT-shardIofN` for a shard), prints the headline and per-class tables on stderr,
    and returns the eval dir and headline metrics.
    """
    from cvtool.engine.checkpoint import load_checkpoint, resolve_checkpoint

    settings = settings or EvalSettings()
    torch_device = pick_device(device)
    checkpoint = load_checkpoint(resolve_checkpoint(Path(run)), map_location="cpu")
    if checkpoint.task == "classification" and (shard is not None or settings.save_masks):
        raise CvtoolError(
            f"checkpoint {checkpoint.path} is a classifier: --shard and --save-masks are for "
            "segmentation models"
        )
    data_dir = Path(data) if data is not None else checkpoint.dataset
    if data is None and not data_dir.is_dir():
        raise CvtoolError(
            f"the dataset this model was trained on, {data_dir}, no longer exists",
            "pass --data DIR with a prepared dataset of the same classes",
        )
    home = checkpoint.run_dir or checkpoint.path.parent
    name = f"eval-{split}" + (f"-shard{shard[0]}of{shard[1]}" if shard else "")
    out = Path(out) if out else home / name
    label = checkpoint.run_dir.name if checkpoint.run_dir else checkpoint.path.stem
    source = {
        "kind": "checkpoint",
        "name": label,
        "checkpoint": str(checkpoint.path),
        "model": checkpoint.model_name,
        "epoch": checkpoint.epoch,
        "device": str(torch_device),
        "amp": torch_device.type == "cuda" and amp,
    }
    title = f"{label} ({split})"
    if checkpoint.task == "classification":
        from cvtool.evaluate.classify import evaluate_classifier
        from cvtool.evaluate.classify_infer import Inference

        run_with = Inference(batch_size, torch_device, amp, settings.workers)
        return evaluate_classifier(
            checkpoint, data_dir, split, out, settings, run_with, source, title
        )
    eval_split = load_split(data_dir, split, shard=shard)
    check_classes(checkpoint, eval_split.manifest, data_dir)
    batches = model_batches(checkpoint, eval_split, batch_size, torch_device, amp, settings.workers)
    return run_evaluation(out, eval_split, batches, True, source, settings, shard, title)
