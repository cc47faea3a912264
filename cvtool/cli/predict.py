"""`cvtool predict`: apply a trained or exported model to new images and videos."""

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
    workers_option,
)

app = typer.Typer()


@stage_command(app, "predict")
def predict(
    model: Path = typer.Argument(
        ...,
        help="A run dir or checkpoint (train), an .onnx or .torchscript file (export), YOLO "
        "weights, or a detect run dir.",
        show_default=False,
    ),
    source: Path = typer.Argument(
        ...,
        help="An image, a video, a folder of them, or a quoted glob pattern ('shots/**/*.jpg').",
        show_default=False,
    ),
    out: Path | None = out_option("Prediction dir to write (default: runs/predict/MODEL)."),
    batch_size: int = batch_size_option(4, "Images (or tiles) per forward pass."),
    device: str = device_option(),
    amp: bool = typer.Option(True, "--amp/--no-amp", help="Mixed precision on CUDA."),
    calibration: bool = typer.Option(
        True,
        "--calibration/--no-calibration",
        help="Apply the calibration stored with the run by `cvtool calibrate`; "
        "--no-calibration gives the raw model's probabilities.",
    ),
    workers: int | None = workers_option("Image decoding processes (default: all cores)."),
    threads: int | None = threads_option(),
    tile: bool = typer.Option(
        False, "--tile", help="Segmentation: sliding windows of the training size, overlapping."
    ),
    tile_size: str | None = typer.Option(
        None, "--tile-size", help="Segmentation: window size N or HxW (default: training size)."
    ),
    overlap: float = typer.Option(
        1 / 3, "--overlap", min=0.0, max=0.99, help="Segmentation: window overlap (fraction)."
    ),
    tta: str = typer.Option(
        "none", "--tta", help="Segmentation: 'flip' averages with the mirrored image."
    ),
    confidence: bool = typer.Option(
        False, "--confidence", help="Segmentation: also write top-class probability maps."
    ),
    top_k: int = typer.Option(5, "--top-k", min=1, help="Classification: labels per image."),
    contact_sheet: bool = typer.Option(
        True, "--contact-sheet/--no-contact-sheet", help="Classification: labelled thumbnails."
    ),
    size: str = typer.Option("640", "--size", help="Detection: inference size N or HxW."),
    conf: float = typer.Option(0.25, "--conf", min=0.0, max=1.0, help="Detection: threshold."),
    iou: float = typer.Option(0.7, "--iou", help="Detection: NMS IoU threshold."),
    max_det: int = typer.Option(300, "--max-det", help="Detection: boxes kept per image."),
    half: bool = typer.Option(False, "--half", help="Detection: FP16 inference (GPU)."),
    annotations: Path | None = typer.Option(
        None, "--annotations", help="Detection: COCO file whose image and category ids to use."
    ),
    category_map: str | None = typer.Option(
        None, "--category-map", help="Detection: JSON {model class: category}, or 'index'."
    ),
    overwrite: bool = overwrite_option(),
) -> CommandResult:
    """Apply a model to new images, a folder, a glob or a video; write a prediction dir.

    Segmentation: masks/ (class-index PNGs at each input's size, the format prepare writes,
    so evaluate --predictions scores them), overlays/ (an overlay video for a video input),
    confidence/ with --confidence. Classification: predictions.csv (top-k labels and
    probabilities) and contact_sheet.png. Detection: predictions.json (COCO results with
    file names) and boxes/. Unreadable inputs are skipped and listed in predict.json.

    Examples:

        cvtool predict runs/train/unet photos/ --out runs/predict/photos

        cvtool predict runs/train/unet/checkpoints/best.onnx big.png --tile --tta flip

        cvtool predict runs/train/resnet18 'shots/**/*.jpg' --top-k 3

        cvtool predict yolov8n.pt street.jpg --conf 0.3
    """
    from cvtool.api import predict as api

    result = api.predict(
        model,
        source,
        out,
        batch_size=batch_size,
        device=device,
        amp=amp,
        calibration=calibration,
        workers=workers,
        threads=threads,
        tile=tile,
        tile_size=tile_size,
        overlap=overlap,
        tta=tta,
        confidence=confidence,
        top_k=top_k,
        contact_sheet=contact_sheet,
        size=size,
        conf=conf,
        iou=iou,
        max_det=max_det,
        half=half,
        annotations=annotations,
        category_map=category_map,
        overwrite=overwrite,
        progress=True,
    )
    summary = result.to_dict()
    summary.pop("path")
    return CommandResult(result.path, summary)
