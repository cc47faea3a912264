"""Calibrate from Python: fit temperature or vector scaling to a trained model's logits on a
held-out split and store it with the run, so that evaluation (and any later inference, through
`apply_calibration`) uses it; and fit and apply score calibration to a detector's predictions.

>>> cvtool.calibrate("runs/unet", split="val")                    # doctest: +SKIP
>>> cvtool.evaluate("runs/unet", split="test")                    # calibrated by default
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cvtool.api.params import PathLike, as_optional_path, as_path
from cvtool.api.results import _Result
from cvtool.core.calibration_metrics import CalibrationReport
from cvtool.core.console import info, quiet, warn
from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.core.logit_calibration import Calibration, check_method
from cvtool.core.outputs import check_not_staging, check_out_not_input, remove_temp_files


@dataclass
class CalibrationFitResult(_Result):
    """A calibration stored in the run dir `path` (its `run.json`): the method, its parameters,
    and the numbers of the fit samples (`samples` pixels or images of `split`) before and after
    (ECE, adaptive ECE, MCE, classwise ECE, NLL, Brier score, accuracy)."""

    path: Path
    task: str
    method: str
    split: str
    parameters: dict[str, Any]
    samples: int
    before: dict[str, float | None] = field(default_factory=dict)
    after: dict[str, float | None] = field(default_factory=dict)


def _numbers(report: CalibrationReport) -> dict[str, float | None]:
    from cvtool.core.evaldir import finite

    return {k: finite(v) for k, v in {**report.summary(), "accuracy": report.accuracy}.items()}


def _check_split(data_dir: Path, task: str, split: str) -> None:
    from cvtool.core.layout import split_path

    try:
        split_path(data_dir, split, ".txt" if task == "segmentation" else ".csv")
    except CvtoolError as e:
        raise CvtoolError(
            f"cannot calibrate: {e.message}",
            "calibrate on a held-out split the model was not trained on (prepare the dataset "
            "with a validation split), or name another `split`",
            param="split",
        ) from None
    if split in ("train", "test"):
        why = "its training images" if split == "train" else "the split you report on"
        warn(f"calibrating on {split!r}, {why}: a validation split gives honest numbers")


def _collect(
    checkpoint: Any,
    data_dir: Path,
    split: str,
    run: Any,
    store: Any,
    subsample: float | None,
    seed: int,
) -> str:
    """Fill `store` with the split's labelled samples; return their unit."""
    from cvtool.engine.checkpoint import check_classes

    if checkpoint.task == "classification":
        from cvtool.classify.inference import collect_logits
        from cvtool.classify.split import load_class_split

        class_split = load_class_split(data_dir, split)
        check_classes(checkpoint, class_split.manifest, data_dir)
        collect_logits(checkpoint, class_split, run, store)
        return "images"
    from cvtool.segment.inference import collect_pixels
    from cvtool.segment.split import load_split

    seg_split = load_split(data_dir, split)
    check_classes(checkpoint, seg_split.manifest, data_dir)
    collect_pixels(checkpoint, seg_split, run, store, subsample, seed)
    return "pixels"


def calibrate(
    run: PathLike,
    split: str = "val",
    method: str = "temperature",
    *,
    data: PathLike | None = None,
    subsample: float | None = None,
    seed: int = 0,
    bins: int = 15,
    batch_size: int = 4,
    device: str | None = None,
    amp: bool = True,
    workers: int | None = None,
    threads: int | None = None,
    progress: bool = False,
) -> CalibrationFitResult:
    """Fit a post-hoc calibration of a trained model on a held-out split; store it in the run.

    The logits of every labelled pixel (segmentation; ignored pixels left out) or image
    (classification) of `split` are collected and the calibration is fitted by minimising
    their NLL with L-BFGS. The run's `run.json` then records the method, its parameters, the
    split, the checkpoint it belongs to and the numbers before and after; `evaluate` applies
    it from then on (`calibration=False` shows the raw model). Temperature scaling never
    changes a prediction; vector scaling may.

    Args:
        run: a run dir written by `train`, or one of its checkpoints (default: `best.pt`).
        split: the split to fit on (a validation split: not trained on, not reported on).
        method: `temperature` (one T for all classes) or `vector` (scale and bias per class).
        data: prepared dataset dir (default: the one the model was trained on).
        subsample: segmentation: fit on this fraction of the labelled pixels, drawn uniformly
            (kept in memory: fast). Default: every pixel, streamed from a temporary file.
        seed: seed of the pixel subsample.
        bins: calibration bins of the before/after numbers.
        batch_size: images per forward pass.
        device: `auto`, `cpu`, `cuda`, `cuda:N` or `mps` (default: auto).
        amp: mixed precision on CUDA.
        workers: image decoding processes (default: all cores).
        threads: torch's intra-op threads (default: `cvtool.core.threads.policy_threads()`).
        progress: show progress and the result on stderr.

    Returns:
        The run dir, the method and parameters, and the numbers before and after.
    """
    from cvtool.core.device import resolve_device
    from cvtool.core.inference import Inference
    from cvtool.core.locks import output_lock
    from cvtool.core.logit_calibration import calibration_scores, fit_calibration
    from cvtool.core.logit_store import LogitStore
    from cvtool.core.provenance import provenance
    from cvtool.core.threads import set_threads
    from cvtool.engine.calibration import checkpoint_identity
    from cvtool.engine.checkpoint import load_checkpoint
    from cvtool.engine.manifest import RUN_MANIFEST, RunManifest

    check_method(method)
    if subsample is not None and not 0 < subsample <= 1:
        raise ParameterError(f"subsample must lie in (0, 1], got {subsample}", "subsample")
    run_path, data_path = as_path(run, "run"), as_optional_path(data, "data")
    set_threads(threads)
    with quiet(not progress):
        checkpoint = load_checkpoint(run_path)
        if checkpoint.run_dir is None or not (checkpoint.run_dir / RUN_MANIFEST).is_file():
            raise CvtoolError(
                f"{checkpoint.path} is not inside a run dir: a calibration is stored in the "
                f"run's {RUN_MANIFEST}",
                "pass the run dir written by `cvtool train`",
                param="run",
            )
        data_dir = checkpoint.dataset_dir(data_path)
        _check_split(data_dir, checkpoint.task, split)
        if subsample is not None and checkpoint.task == "classification":
            raise ParameterError("subsample is for segmentation pixels", "subsample")
        inference = Inference(batch_size, resolve_device(device), amp, workers)
        spill = checkpoint.task == "segmentation" and subsample is None
        with LogitStore(checkpoint.num_classes, spill=spill) as store:
            unit = _collect(checkpoint, data_dir, split, inference, store, subsample, seed)
            samples = len(store)
            if samples == 0:
                raise CvtoolError(f"split {split!r} of {data_dir} has no labelled {unit}")
            info(f"fitting {method} scaling on {samples:,} {unit} of split {split!r}")
            fit = fit_calibration(store, method)
            before, after = calibration_scores(store, fit.calibration, bins)
        # run.json is the run's: one writer at a time (a training run holds its lock).
        with output_lock(checkpoint.run_dir, param="run"):
            remove_temp_files(checkpoint.run_dir / RUN_MANIFEST)
            manifest = RunManifest.load(checkpoint.run_dir)
            manifest.calibration = {
                **fit.calibration.to_dict(),
                "split": split,
                "dataset": str(data_dir),
                "fitted_to": checkpoint_identity(checkpoint),
                "samples": {"count": samples, "unit": unit, "subsample": subsample, "seed": seed},
                "fit": {
                    "objective": "mean NLL",
                    "optimizer": "L-BFGS (strong Wolfe)",
                    "evaluations": fit.evaluations,
                    "nll_before": fit.nll_before,
                    "nll_after": fit.nll_after,
                },
                "before": _numbers(before),
                "after": _numbers(after),
                **provenance("torch"),
            }
            manifest.save(checkpoint.run_dir)
        info(
            f"{split}: ECE {before.ece:.4f} -> {after.ece:.4f}, NLL {before.nll:.4f} -> "
            f"{after.nll:.4f} ({method} {_describe(fit.calibration)})"
        )
    return CalibrationFitResult(
        checkpoint.run_dir,
        checkpoint.task,
        method,
        split,
        fit.calibration.parameters,
        samples,
        _numbers(before),
        _numbers(after),
    )


def _describe(calibration: Calibration) -> str:
    p = calibration.parameters
    if calibration.method == "temperature":
        return f"T = {p['temperature']:.4f}"
    return f"scale {min(p['scale']):.3f}..{max(p['scale']):.3f}"


@dataclass
class DetectionCalibrationResult(_Result):
    """A calibration dir (`path`, holding `score_calibration.json` and reliability plots): the
    method, its parameters and the ECE per scale of the fit predictions before and after."""

    path: Path
    method: str
    parameters: dict[str, Any]
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


@dataclass
class CalibratedPredictionsResult(_Result):
    """A COCO results file (`path`) with calibrated `score`s and the original in `score_raw`."""

    path: Path
    method: str
    predictions: int


def _predictions_file(source: Path) -> Path:
    """A detect run dir's `predictions.json`, or the results file itself."""
    return source / "predictions.json" if source.is_dir() else source


def calibrate_detections(
    predictions: PathLike,
    annotations: PathLike,
    out: PathLike,
    *,
    method: str = "platt",
    iou: float = 0.5,
    bins: int = 15,
    overwrite: bool = False,
    progress: bool = False,
) -> DetectionCalibrationResult:
    """Fit a score calibration to a detector's predictions on one set of images.

    Each prediction is matched to the ground truth at IoU `iou` (greedily by score, as
    COCOeval does); the map from score to matched-or-not is fitted and written to the
    calibration dir `out`, with the ECE per object scale before and after on these predictions.
    Apply it to the predictions of other images with `apply_detection_calibration`.

    Args:
        predictions: a COCO results JSON file, or a detect run dir (its `predictions.json`).
        annotations: the COCO instances file of those images.
        out: calibration dir to write.
        method: `platt` (logistic on the score's log-odds; AP unchanged), `isotonic` (monotone
            steps; ties move AP a little) or `box` (logistic on the score and the box's
            position and size; reorders detections).
        iou: IoU at which a prediction counts as right.
        bins: calibration bins of the ECE.
        overwrite: replace an existing calibration in `out`.
        progress: show progress on stderr.

    Returns:
        The calibration dir, the method and parameters, and the ECE per scale before and after.
    """
    from cvtool.detect import recalibrate
    from cvtool.detect.score_calibration import check_method as check_score_method

    check_score_method(method)
    if not 0 < iou < 1:
        raise ParameterError(f"iou must lie in (0, 1), got {iou}", "iou")
    source = _predictions_file(as_path(predictions, "predictions"))
    gt, out_dir = as_path(annotations, "annotations"), as_path(out, "out")
    check_not_staging(source, "predictions")
    check_out_not_input(out_dir, {"predictions": source, "annotations": gt})
    with quiet(not progress):
        record = recalibrate.fit_detection_calibration(
            source, gt, out_dir, method, iou, bins, overwrite
        )
    return DetectionCalibrationResult(
        out_dir, method, record["parameters"], record["before"], record["after"]
    )


def apply_detection_calibration(
    predictions: PathLike,
    calibration: PathLike,
    out: PathLike | None = None,
    *,
    annotations: PathLike | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> CalibratedPredictionsResult:
    """Rewrite the scores of a COCO results file with a fitted score calibration.

    Each entry's `score` becomes the calibrated probability and `score_raw` keeps the original,
    so `evaluate_detections` of the new file reports the ECE of both.

    Args:
        predictions: a COCO results JSON file, or a detect run dir (its `predictions.json`).
        calibration: a calibration dir written by `calibrate_detections` (or its JSON file).
        out: results file to write (default: `STEM_calibrated.json` beside the predictions).
        annotations: the COCO instances file of the images (the `box` method needs their
            sizes).
        overwrite: replace an existing `out`.
        progress: say what was written on stderr.

    Returns:
        The calibrated results file, the method, and the number of predictions.
    """
    from cvtool.detect import recalibrate

    source = _predictions_file(as_path(predictions, "predictions"))
    target = as_optional_path(out, "out") or source.with_name(f"{source.stem}_calibrated.json")
    check_not_staging(source, "predictions")
    check_out_not_input(target, {"predictions": source, "calibration": calibration})
    score_map = recalibrate.read_score_calibration(as_path(calibration, "calibration"))
    count = recalibrate.apply_detection_calibration(
        source, score_map, target, as_optional_path(annotations, "annotations"), overwrite
    )
    with quiet(not progress):
        info(f"{count:,} predictions with {score_map.method}-calibrated scores: {target}")
    return CalibratedPredictionsResult(target, score_map.method, count)
