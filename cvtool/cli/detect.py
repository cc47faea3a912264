"""`cvtool detect ...`: YOLO predictions, COCO mAP + TIDE + calibration per scale, and score
calibration."""

from __future__ import annotations

from pathlib import Path

import typer

from cvtool.cli.common import (
    CommandResult,
    batch_size_option,
    device_option,
    out_option,
    overwrite_option,
    stage_command,
    threads_option,
)
from cvtool.core.errors import ParameterError

app = typer.Typer(
    no_args_is_help=True,
    help="Run a YOLO detector and evaluate COCO-format detections (mAP, TIDE, calibration).",
)


@stage_command(app, "run")
def run(
    weights: str = typer.Option(
        ..., "--weights", help="Local YOLO detect checkpoint (.pt) or model yaml."
    ),
    images: Path = typer.Option(..., "--images", help="Folder of images."),
    annotations: Path | None = typer.Option(
        None, "--annotations", help="COCO instances file: its images are run and its ids used."
    ),
    out: Path | None = out_option(
        "Run directory to write (default: runs/detect/<weights stem>, numbered)."
    ),
    size: str = typer.Option(
        "640", "--size", help="Inference size: N (longer side, letterboxed) or HxW."
    ),
    conf: float = typer.Option(0.001, "--conf", help="Score threshold (keep it low for mAP)."),
    iou: float = typer.Option(0.7, "--iou", help="NMS IoU threshold."),
    max_det: int = typer.Option(300, "--max-det", help="Detections kept per image."),
    batch_size: int = batch_size_option(
        1, "Images per forward pass (a batch pads to square: helps on GPU, not on CPU)."
    ),
    device: str = device_option(),
    threads: int | None = threads_option(),
    half: bool = typer.Option(False, "--half", help="FP16 inference (GPU)."),
    category_map: str | None = typer.Option(
        None,
        "--category-map",
        help="JSON file {model class: category name or id}, or 'index' (class i -> i-th category).",
    ),
    overwrite: bool = overwrite_option(),
) -> CommandResult:
    """Write predictions.json (COCO results format) for every image of the annotation file.

    Example:

        cvtool detect run --weights yolov8n.pt --images val2017
        --annotations annotations/instances_val2017.json --out runs/yolo
    """
    from cvtool.api.detect import detect_objects

    result = detect_objects(
        weights,
        images,
        annotations,
        out,
        size=size,
        conf=conf,
        iou=iou,
        max_det=max_det,
        batch_size=batch_size,
        device=device,
        half=half,
        category_map=category_map,
        threads=threads,
        overwrite=overwrite,
        progress=True,
    )
    return CommandResult(result.predictions, result.run)


@stage_command(app, "eval")
def evaluate(
    source: Path = typer.Argument(..., help="A detect run dir, or a COCO results JSON file."),
    annotations: Path | None = typer.Option(
        None,
        "--annotations",
        help="COCO instances file (default: the one recorded in the run dir's run.json).",
    ),
    out: Path | None = out_option(
        "Where to write (default: the run dir, or <file stem>_eval beside the file)."
    ),
    backend: str = typer.Option(
        "pycocotools", "--backend", help="pycocotools or faster-coco-eval."
    ),
    bins: int = typer.Option(15, "--bins", min=1, help="Calibration bins."),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="Draw the plots."),
    overwrite: bool = overwrite_option(
        "Replace an earlier evaluation in --out (in a run dir, only its own files)."
    ),
) -> CommandResult:
    """COCO mAP, TIDE errors and detection calibration, overall and per object scale.

    Example:

        cvtool detect eval runs/yolo --annotations annotations/instances_val2017.json
    """
    from cvtool.api.detect import evaluate_detections

    result = evaluate_detections(
        source,
        annotations,
        out,
        backend=backend,
        bins=bins,
        plots=plots,
        overwrite=overwrite,
        progress=True,
    )
    return CommandResult(result.path, result.headline)


@stage_command(app, "calibrate")
def calibrate(
    predictions: Path = typer.Argument(
        ..., help="A COCO results JSON file, or a detect run dir (its predictions.json)."
    ),
    annotations: Path | None = typer.Option(
        None, "--annotations", help="COCO instances file of the images (needed to fit)."
    ),
    out: Path | None = out_option(
        "Fit: the calibration dir to write. --apply: the results file to write "
        "(default: <stem>_calibrated.json beside the predictions)."
    ),
    apply: Path | None = typer.Option(
        None,
        "--apply",
        metavar="DIR",
        help="Rewrite the scores of PREDICTIONS with the calibration fitted into DIR.",
    ),
    method: str = typer.Option(
        "platt", "--method", help="platt, isotonic or box (box-aware logistic)."
    ),
    iou: float = typer.Option(0.5, "--iou", help="IoU at which a prediction counts as right."),
    bins: int = typer.Option(15, "--bins", min=1, help="Calibration bins."),
    overwrite: bool = overwrite_option("Replace an existing calibration or results file."),
) -> CommandResult:
    """Fit a score calibration on one set of images; apply it to the predictions of others.

    Fitting matches each prediction to the ground truth at IoU 0.5 and learns the map from
    score to probability of being right (platt: AP unchanged; isotonic: ties may move AP a
    little; box: uses the box's position and size, reorders detections). Applying writes a
    COCO results file with calibrated scores and the original in score_raw, so `detect eval`
    shows the ECE per scale before and after.

    Examples:

        cvtool detect calibrate runs/yolo-half1 --annotations half1.json --out runs/yolo-cal

        cvtool detect calibrate runs/yolo-half2 --apply runs/yolo-cal --out half2_cal.json

        cvtool detect eval half2_cal.json --annotations half2.json
    """
    from cvtool.api.calibrate import apply_detection_calibration, calibrate_detections

    if apply is not None:
        done = apply_detection_calibration(
            predictions, apply, out, annotations=annotations, overwrite=overwrite, progress=True
        )
        return CommandResult(done.path, {"method": done.method, "predictions": done.predictions})
    if annotations is None or out is None:
        raise ParameterError(
            "fitting a score calibration needs the annotation file and the calibration dir",
            "annotations" if annotations is None else "out",
            "give both, or apply a fitted calibration to predictions",
        )
    fitted = calibrate_detections(
        predictions,
        annotations,
        out,
        method=method,
        iou=iou,
        bins=bins,
        overwrite=overwrite,
        progress=True,
    )
    return CommandResult(fitted.path, {"method": fitted.method, "parameters": fitted.parameters})
