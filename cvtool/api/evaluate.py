"""Evaluate a trained checkpoint: segmentation or classification, as the checkpoint says."""

from __future__ import annotations

import os
from pathlib import Path

from cvtool.core.device import resolve_device
from cvtool.core.errors import CvtoolError
from cvtool.core.inference import Inference
from cvtool.engine.checkpoint import load_checkpoint, resolve_checkpoint
from cvtool.segment.evaluate import EvalOutcome, EvalSettings


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

    Segmentation or classification, as the checkpoint says (see `cvtool.classify.evaluate`
    for classifiers, which take no `shard`). Writes `RUN/eval-SPLIT` by default
    (`eval-SPLIT-shardIofN` for a shard), prints the headline and per-class tables on stderr,
    and returns the eval dir and headline metrics.
    """
    settings = settings or EvalSettings()
    torch_device = resolve_device(device)
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
    inference = Inference(batch_size, torch_device, amp, settings.workers)
    if checkpoint.task == "classification":
        from cvtool.classify.evaluate import evaluate_classifier

        return evaluate_classifier(
            checkpoint, data_dir, split, out, settings, inference, source, title
        )
    from cvtool.segment.inference import evaluate_segmentation

    return evaluate_segmentation(
        checkpoint, data_dir, split, out, settings, shard, inference, source, title
    )
