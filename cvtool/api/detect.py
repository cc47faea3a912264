"""Detection from Python: run a YOLO model to COCO-format predictions, and score them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cvtool.api.params import (
    PathLike,
    SizeLike,
    as_choice,
    as_optional_path,
    as_path,
    as_size,
)
from cvtool.api.results import DetectionEvalResult, DetectResult
from cvtool.core.console import console, quiet
from cvtool.core.errors import CvtoolError, check_range
from cvtool.core.outputs import check_not_staging, check_out_not_input

if TYPE_CHECKING:
    from cvtool.detect.yolo import YoloOptions


def yolo_options(
    size: SizeLike, conf: float, batch_size: int, device: str, **options: Any
) -> YoloOptions:
    """YOLO inference options from stage arguments (`detect_objects`, and `track_objects` with
    `weights`). A device this machine lacks is refused here, before any data is read."""
    from cvtool.core.device import resolve_device
    from cvtool.detect.yolo import YoloOptions

    check_range(conf, "conf", 0, 1)
    check_range(batch_size, "batch_size", 1)
    check_range(options.get("iou", 0.5), "iou", 0, 1)
    check_range(options.get("max_det", 1), "max_det", 1)
    resolve_device(device)
    return YoloOptions(
        imgsz=as_size(size, "size"), conf=conf, batch=batch_size, device=device, **options
    )


def detect_objects(
    weights: PathLike,
    images: PathLike,
    annotations: PathLike | None = None,
    out: PathLike | None = None,
    *,
    size: SizeLike = 640,
    conf: float = 0.001,
    iou: float = 0.7,
    max_det: int = 300,
    batch_size: int = 1,
    device: str = "auto",
    half: bool = False,
    category_map: PathLike | None = None,
    threads: int | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> DetectResult:
    """Run a YOLO detector on every image and write `predictions.json` (COCO results format).

    Nothing is downloaded: `weights` must be a local checkpoint, or a model yaml (random
    weights). With `annotations`, the images of that file are run and the model's class names
    are mapped to its category ids.

    Args:
        weights: local YOLO detect checkpoint (`.pt`) or model yaml.
        images: folder of images.
        annotations: COCO instances file whose images are run and category ids used.
        out: run dir to write (default: the first free `runs/detect/WEIGHTS-STEM`, ...).
        size: inference image size, N (longest side) or `"HxW"` / `(height, width)`.
        conf: score threshold (keep it low for mAP).
        iou: NMS IoU threshold.
        max_det: detections kept per image.
        batch_size: images per forward pass.
        device: `auto`, `cpu`, `cuda`, `cuda:N` or `mps`.
        half: FP16 inference (GPU).
        category_map: JSON file `{model class: category name or id}`, or `"index"`.
        threads: torch's intra-op threads (default: the cores this process may use; see
            `cvtool.core.threads`).
        overwrite: replace an existing `out`.
        progress: show progress on stderr.

    Returns:
        The run dir, the predictions file, images run, detections, images per second, and
        `run`, the content of `run.json`.
    """
    from cvtool.core.rundirs import next_run_dir
    from cvtool.core.threads import set_threads
    from cvtool.detect.yolo import run_yolo

    set_threads(threads)
    opts = yolo_options(size, conf, batch_size, device, iou=iou, max_det=max_det, half=half)
    weights_path = as_path(weights, "weights")
    run_dir = as_optional_path(out, "out") or next_run_dir("detect", weights_path.stem)
    images_dir = as_path(images, "images")
    annotations_file = as_optional_path(annotations, "annotations")
    inputs = {"weights": weights_path, "images": images_dir, "annotations": annotations_file}
    if category_map is not None and category_map != "index":
        inputs["category_map"] = as_path(category_map, "category_map")
    check_out_not_input(run_dir, inputs)
    with quiet(not progress):
        run = run_yolo(
            str(weights),
            images_dir,
            run_dir,
            annotations_file,
            opts,
            category_map,
            overwrite,
        )
    return DetectResult(
        run_dir,
        run_dir / "predictions.json",
        run["num_images"],
        run["num_predictions"],
        run["images_per_second"],
        run,
    )


def _locate(source: Path, annotations: Path | None, out: Path | None) -> tuple[Path, Path, Path]:
    """(predictions file, annotations, eval dir) for a detect run dir or a results file."""
    from cvtool.core.artifacts import read_json_object

    check_not_staging(source, "source")
    if source.name == "predictions.json" and (source.parent / "run.json").is_file():
        source = source.parent  # the predictions of a run dir evaluate into that run dir
    if source.is_dir():
        predictions = source / "predictions.json"
        if annotations is None and (source / "run.json").is_file():
            recorded = read_json_object(
                source / "run.json",
                "detect run manifest",
                {"annotations": (str, type(None))},
                "pass `annotations`, or run the detector again to rewrite it",
            )["annotations"]
            annotations = Path(recorded) if recorded else None
        out = out or source
    else:
        predictions = source
        out = out or source.with_name(f"{source.stem}_eval")
    if annotations is None:
        raise CvtoolError(
            f"no annotation file for {source}",
            "pass `annotations`: the COCO instances file the predictions refer to",
            param="annotations",
        )
    return predictions, annotations, out


def evaluate_detections(
    source: PathLike,
    annotations: PathLike | None = None,
    out: PathLike | None = None,
    *,
    backend: str = "pycocotools",
    bins: int = 15,
    plots: bool = True,
    overwrite: bool = False,
    progress: bool = False,
) -> DetectionEvalResult:
    """COCO mAP, TIDE errors and detection calibration, overall and per object scale.

    Args:
        source: a detect run dir (or its `predictions.json`), or a COCO results JSON file.
        annotations: COCO instances file (default: the one recorded in the run dir).
        out: where to write (default: the run dir, or `STEM_eval` beside a results file).
        backend: `pycocotools` or `faster-coco-eval`.
        bins: calibration bins.
        plots: draw the plots.
        overwrite: replace an earlier evaluation in `out` (in a run dir, only the
            evaluation's own files are replaced).
        progress: show progress and the table of headline numbers on stderr.

    Returns:
        The eval dir and the headline numbers (AP, AP50, AP per scale, TIDE AP50, ECE).
    """
    from cvtool.detect import evaluate as detect_evaluate
    from cvtool.detect.coco_eval import BACKENDS

    as_choice(backend, BACKENDS, "backend")
    check_range(bins, "bins", 1)
    predictions, annotations_file, out_dir = _locate(
        as_path(source, "source"),
        as_optional_path(annotations, "annotations"),
        as_optional_path(out, "out"),
    )
    inputs = {"annotations": annotations_file}
    if out_dir.resolve() != predictions.parent.resolve():  # in its run dir, it is kept
        inputs["source"] = predictions
    check_out_not_input(out_dir, inputs)
    with quiet(not progress):
        result = detect_evaluate.evaluate_detections(
            predictions,
            annotations_file,
            out_dir,
            backend=backend,
            n_bins=bins,
            plots=plots,
            overwrite=overwrite,
        )
        _print_summary(result.coco, result.tide, result.calibration)
    return DetectionEvalResult(out_dir, result.headline)


def _print_summary(coco: dict[str, Any], tide: dict[str, Any], calib: dict[str, Any]) -> None:
    """COCO AP/AR, TIDE and calibration, overall and per object scale."""
    from rich.table import Table

    from cvtool.detect.report import COLUMNS, summary_rows

    table = Table(title="detection evaluation")
    table.add_column("metric", overflow="fold")
    for col in COLUMNS:
        table.add_column(col, justify="right", overflow="fold")
    for name, values in summary_rows(coco, tide, calib):
        table.add_row(name, *values)
    console.print(table)
