"""Evaluate from Python: a trained checkpoint or run dir (segmentation or classification, as the
checkpoint says), a folder of predicted masks, or the shards of one evaluation.

Each function writes an eval dir (metrics.json, per_class.csv, confusion.csv, plots/, ...) and
returns an `EvalResult`; it prints nothing unless `progress=True`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cvtool.api.params import (
    PathLike,
    ShardLike,
    as_optional_path,
    as_path,
    as_paths,
    as_shard,
)
from cvtool.api.results import EvalResult
from cvtool.core.cache import check_cache_mode
from cvtool.core.console import note, quiet
from cvtool.core.device import resolve_device
from cvtool.core.errors import CvtoolError, check_range
from cvtool.core.evaldir import EvalOutcome, EvalSettings
from cvtool.core.inference import Inference
from cvtool.core.layout import dataset_parts, load_manifest
from cvtool.core.outputs import check_not_staging, check_out_not_input
from cvtool.core.threads import set_threads
from cvtool.engine.calibration import stored_calibration
from cvtool.engine.checkpoint import check_classes, load_checkpoint, resolve_checkpoint
from cvtool.segment import evaluate as segment_evaluate


def evaluate_checkpoint(
    run: PathLike,
    data: PathLike | None = None,
    split: str = "test",
    out: PathLike | None = None,
    settings: EvalSettings | None = None,
    shard: tuple[int, int] | None = None,
    batch_size: int = 4,
    device: str | None = None,
    amp: bool = True,
) -> EvalOutcome:
    """Evaluate a run dir (its best checkpoint, else last) or a checkpoint file on a split.

    Segmentation or classification, as the checkpoint says (see `cvtool.classify.evaluate`
    for classifiers, which take no `shard`). Writes `RUN/eval-SPLIT` by default
    (`eval-SPLIT-shardIofN` for a shard; `eval-SPLIT-raw` when a calibration stored with the
    run is left out by `settings.calibration`), prints the headline and per-class tables on stderr,
    and returns the eval dir and headline metrics. Arguments as the library takes them;
    `evaluate` accepts the command line's forms and is quiet by default.
    """
    settings = settings or EvalSettings()
    check_range(batch_size, "batch_size", 1)
    torch_device = resolve_device(device)
    check_not_staging(run, "run")
    checkpoint = load_checkpoint(resolve_checkpoint(Path(run)), map_location="cpu")
    if checkpoint.task == "classification" and (shard is not None or settings.save_masks):
        param = "shard" if shard is not None else "save_masks"
        raise CvtoolError(
            f"checkpoint {checkpoint.path} is a classifier: {param} is for segmentation models",
            param=param,
        )
    data_dir = checkpoint.dataset_dir(data)
    home = checkpoint.run_dir or checkpoint.path.parent
    found = stored_calibration(checkpoint)
    calibration = found[0] if found and settings.calibration else None
    raw = "-raw" if found and calibration is None else ""  # beside the calibrated eval dir
    name = f"eval-{split}{raw}" + (f"-shard{shard[0]}of{shard[1]}" if shard else "")
    out = Path(out) if out else home / name
    check_out_not_input(out, {"run": checkpoint.path, "data": dataset_parts(data_dir)})
    label = checkpoint.run_dir.name if checkpoint.run_dir else checkpoint.path.stem
    source = {
        "kind": "checkpoint",
        "name": label,
        "checkpoint": str(checkpoint.path),
        "model": checkpoint.model_name,
        "epoch": checkpoint.epoch,
        "device": str(torch_device),
        "amp": torch_device.type == "cuda" and amp,
        "calibration": None
        if calibration is None
        else {
            **calibration.to_dict(),
            "split": found[1].get("split"),
            "fitted": found[1].get("created"),
        },
    }
    scaled = f", {calibration.method} scaled" if calibration else ""
    title = f"{label} ({split}{scaled})"
    if found and calibration is None:
        note(f"the {found[0].method} calibration stored with the run is not applied")
    check_classes(checkpoint, load_manifest(data_dir, checkpoint.task), data_dir)
    inference = Inference(batch_size, torch_device, amp, settings.workers)
    if checkpoint.task == "classification":
        from cvtool.classify.evaluate import evaluate_classifier

        return evaluate_classifier(
            checkpoint, data_dir, split, out, settings, inference, source, title, calibration
        )
    from cvtool.segment.inference import evaluate_segmentation

    return evaluate_segmentation(
        checkpoint, data_dir, split, out, settings, shard, inference, source, title, calibration
    )


def _result(outcome: EvalOutcome) -> EvalResult:
    metrics = outcome.metrics
    task = str(metrics.get("task", "segmentation"))
    return EvalResult(outcome.path, task, int(metrics["images"]), outcome.headline, metrics)


def evaluate(
    run: PathLike,
    data: PathLike | None = None,
    split: str = "test",
    out: PathLike | None = None,
    *,
    shard: ShardLike = None,
    bins: int = 15,
    fail_threshold: float = 0.5,
    max_failures: int = 12,
    tsne_max: int = 200,
    save_masks: bool = False,
    batch_size: int = 4,
    device: str | None = None,
    amp: bool = True,
    workers: int | None = None,
    threads: int | None = None,
    cache: str = "none",
    overwrite: bool = False,
    calibration: bool = True,
    progress: bool = False,
) -> EvalResult:
    """Evaluate a run dir (its best checkpoint, else last) or a checkpoint file on a split.

    Segmentation: pixel accuracy, mean class accuracy, mIoU, fw IoU; per-class IoU, Dice,
    precision, recall, AP; calibration; confusion matrix; a gallery of the worst images.
    Classification: accuracy, macro and per-class P/R/F1, confusion, ECE, mistakes, t-SNE.

    Args:
        run: a run dir written by `train`, or a checkpoint file.
        data: prepared dataset dir (default: the one the model was trained on).
        split: split to evaluate.
        out: eval dir to write (default: `RUN/eval-SPLIT`).
        shard: evaluate every COUNT-th image from INDEX only, `"0/2"` or `(0, 2)`
            (segmentation; join the shards with `merge_evaluations`).
        bins: calibration bins (equal width).
        fail_threshold: failure gallery: images with IoU at most this.
        max_failures: gallery size (classifiers: most confident mistakes).
        tsne_max: classifiers: t-SNE of at most this many train and val images (0: none).
        save_masks: also write the predicted masks (segmentation).
        batch_size: images per forward pass.
        device: `auto`, `cpu`, `cuda`, `cuda:N` or `mps` (default: auto).
        amp: mixed precision on CUDA.
        workers: image decoding processes (default: all cores).
        threads: torch's intra-op threads (default: `cvtool.core.threads.policy_threads()`).
        cache: decoded images of the split: `none`, `ram` or `disk` (`DATA/.cache/`, reused
            by later evaluations and training runs while the images are unchanged).
        overwrite: replace an existing eval dir.
        calibration: apply the calibration stored with the run by `calibrate` (the eval dir
            then reports the raw model's calibration beside); False scores the raw model
            (default eval dir `RUN/eval-SPLIT-raw` when the run has a calibration).
        progress: show progress bars and tables on stderr.

    Returns:
        The eval dir, the number of images and the headline metrics.
    """
    check_cache_mode(cache)
    set_threads(threads)
    settings = EvalSettings(
        bins=bins,
        fail_threshold=fail_threshold,
        max_failures=max_failures,
        save_masks=save_masks,
        workers=workers,
        overwrite=overwrite,
        tsne_max=tsne_max,
        cache=cache,
        calibration=calibration,
    )
    run_path, data_dir = as_path(run, "run"), as_optional_path(data, "data")
    out_dir, shard_pair = as_optional_path(out, "out"), as_shard(shard)
    with quiet(not progress):
        outcome = evaluate_checkpoint(
            run_path, data_dir, split, out_dir, settings, shard_pair, batch_size, device, amp
        )
    return _result(outcome)


def evaluate_predictions(
    predictions: PathLike,
    data: PathLike,
    split: str = "test",
    out: PathLike | None = None,
    *,
    shard: ShardLike = None,
    fail_threshold: float = 0.5,
    max_failures: int = 12,
    save_masks: bool = False,
    workers: int | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> EvalResult:
    """Score predicted index masks (`<stem>.png` per split image) against a dataset split.

    No probabilities, so no calibration or average precision; the report says why.

    Args:
        predictions: folder of predicted index-mask PNGs.
        data: prepared dataset dir.
        split: split to score.
        out: eval dir to write (default: `PREDICTIONS-eval-SPLIT` beside the folder).
        shard: score every COUNT-th image from INDEX only, `"0/2"` or `(0, 2)`.
        fail_threshold: failure gallery: images with IoU at most this.
        max_failures: gallery size.
        save_masks: also write the masks and their coloured versions into the eval dir.
        workers: image decoding processes (default: all cores).
        overwrite: replace an existing eval dir.
        progress: show progress bars and tables on stderr.

    Returns:
        The eval dir, the number of images and the headline metrics.
    """
    settings = EvalSettings(
        fail_threshold=fail_threshold,
        max_failures=max_failures,
        save_masks=save_masks,
        workers=workers,
        overwrite=overwrite,
    )
    pred_dir, data_dir = as_path(predictions, "predictions"), as_path(data, "data")
    out_dir, shard_pair = as_optional_path(out, "out"), as_shard(shard)
    check_not_staging(pred_dir, "predictions")
    if out_dir is not None:
        check_out_not_input(out_dir, {"predictions": pred_dir, "data": dataset_parts(data_dir)})
    with quiet(not progress):
        outcome = segment_evaluate.evaluate_predictions(
            pred_dir, data_dir, split, out_dir, settings, shard_pair
        )
    return _result(outcome)


def merge_evaluations(
    shard_dirs: Sequence[PathLike],
    out: PathLike,
    *,
    overwrite: bool = False,
    progress: bool = False,
) -> EvalResult:
    """Merge the eval dirs of shards (`evaluate(..., shard=(i, n))`) as if run in one pass.

    Args:
        shard_dirs: the shards' eval dirs: all N shards of one evaluation, each once (a
            missing, repeated or unsharded input is refused).
        out: eval dir to write.
        overwrite: replace an existing eval dir.
        progress: show the merged tables on stderr.

    Returns:
        The merged eval dir, the number of images and the headline metrics.
    """
    dirs, out_dir = as_paths(shard_dirs, "shard_dirs"), as_path(out, "out")
    for d in dirs:
        check_not_staging(d, "shard eval dir")
    check_out_not_input(out_dir, {"shard_dirs": dirs})
    with quiet(not progress):
        outcome = segment_evaluate.merge_evaluations(dirs, out_dir, overwrite)
    return _result(outcome)
