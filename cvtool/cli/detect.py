"""`cvtool detect ...`: YOLO predictions, and COCO mAP + TIDE + calibration per scale."""

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
