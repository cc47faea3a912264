"""Predict from Python: apply a trained model (run dir, checkpoint, exported ONNX or
TorchScript file, YOLO weights or `detect run` dir) to images, folders, globs and videos."""

from __future__ import annotations

from cvtool.api.params import PathLike, SizeLike, as_choice, as_optional_path, as_path, as_size
from cvtool.api.results import PredictResult
from cvtool.core.console import quiet
from cvtool.core.errors import ParameterError
from cvtool.core.outputs import check_out_not_input

TTA_MODES = ("none", "flip")


def predict(
    model: PathLike,
    source: PathLike,
    out: PathLike | None = None,
    *,
    batch_size: int = 4,
    device: str = "auto",
    amp: bool = True,
    calibration: bool = True,
    workers: int | None = None,
    threads: int | None = None,
    tile: bool = False,
    tile_size: SizeLike = None,
    overlap: float = 1 / 3,
    tta: str = "none",
    confidence: bool = False,
    top_k: int = 5,
    contact_sheet: bool = True,
    size: SizeLike = 640,
    conf: float = 0.25,
    iou: float = 0.7,
    max_det: int = 300,
    half: bool = False,
    annotations: PathLike | None = None,
    category_map: PathLike | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> PredictResult:
    """Apply a model to new images and videos; write a prediction dir (see docs/predict.md).

    Segmentation: `masks/NAME.png` (class indices at the input's size, as `prepare` writes
    them), `overlays/NAME.png` (or `overlays/NAME.mp4` for a video) and, with `confidence`,
    `confidence/NAME.png`. Classification: `predictions.csv` (top-k labels and probabilities)
    and `contact_sheet.png`. Detection: `predictions.json` (COCO results with file names) and
    `boxes/NAME.png`. Every dir has `predict.json`. Unreadable inputs are skipped and listed.

    Args:
        model: a run dir or checkpoint of `train`, an `.onnx` or `.torchscript` file of
            `export`, YOLO weights (`.pt`, or a model `.yaml`), or a `detect run` dir.
        source: an image, a video, a folder of them, or a glob pattern (`"shots/**/*.jpg"`).
        out: prediction dir to write (default: the first free `runs/predict/MODEL`, ...).
        batch_size: images per forward pass (tiles per forward pass with `tile`).
        device: `auto`, `cpu`, `cuda`, `cuda:N` or `mps`.
        amp: mixed precision on CUDA (PyTorch models).
        calibration: apply the calibration `calibrate` stored with the run (False: the raw
            model's probabilities).
        workers: image decoding processes (default: all cores).
        threads: torch's intra-op threads (default: the cores this process may use; see
            `cvtool.core.threads`).
        tile: segmentation: sliding-window inference (windows of the training input size).
        tile_size: segmentation: window size, N or `"HxW"` (default: the training input size).
        overlap: segmentation: overlap of neighbouring windows, a fraction of a window.
        tta: segmentation: `flip` averages the logits with those of the mirrored image.
        confidence: segmentation: also write the top-class probability maps.
        top_k: classification: labels per image in `predictions.csv`.
        contact_sheet: classification: draw the first images with their labels.
        size: detection: inference size, N (longest side) or `"HxW"`.
        conf: detection: score threshold.
        iou: detection: NMS IoU threshold.
        max_det: detection: boxes kept per image.
        half: detection: FP16 inference (GPU).
        annotations: detection: COCO file whose image and category ids the results take.
        category_map: detection: JSON `{model class: category}` or `"index"`.
        overwrite: replace an existing `out`.
        progress: show progress bars and warnings on stderr.

    Returns:
        The prediction dir, the task, images and video frames predicted, the skipped inputs
        and the seconds it took.
    """
    from cvtool.core.device import resolve_device
    from cvtool.core.rundirs import next_run_dir
    from cvtool.core.sources import resolve_sources
    from cvtool.core.threads import set_threads
    from cvtool.deploy.models import load_model
    from cvtool.deploy.predict import PredictSettings, run_predict
    from cvtool.segment.predict import SegmentOptions

    if top_k < 1 or batch_size < 1:
        bad = "top_k" if top_k < 1 else "batch_size"
        raise ParameterError(f"{bad} must be at least 1", bad)
    segment = SegmentOptions(
        tile=tile,
        tile_size=_pair(as_size(tile_size, "tile_size")),
        overlap=overlap,
        tta=as_choice(tta, TTA_MODES, "tta") == "flip",
        confidence=confidence,
    )
    if not 0 <= overlap < 1:
        raise ParameterError(f"overlap must be in [0, 1), got {overlap}", "overlap")
    torch_device = resolve_device(device)
    set_threads(threads)
    model_path, source_path = as_path(model, "model"), as_path(source, "source")
    with quiet(not progress):
        sources = resolve_sources(source_path)
        loaded = load_model(model_path, torch_device)
        if not calibration and loaded.info is not None:
            loaded.info.calibration = None
        yolo = None
        if loaded.task == "detection":
            from cvtool.api.detect import yolo_options

            yolo = yolo_options(size, conf, batch_size, device, iou=iou, max_det=max_det, half=half)
        settings = PredictSettings(
            batch_size=batch_size,
            device=torch_device,
            amp=amp,
            workers=workers,
            top_k=top_k,
            contact_sheet=contact_sheet,
            segment=segment,
            yolo=yolo,
            annotations=as_optional_path(annotations, "annotations"),
            category_map=category_map,
        )
        out_dir = as_optional_path(out, "out") or next_run_dir("predict", loaded.label)
        inputs = [item.path for item in (*sources.images, *sources.videos)]
        check_out_not_input(out_dir, {"model": model_path, "source": inputs})
        outcome = run_predict(loaded, sources, out_dir, settings, overwrite)
    return PredictResult(
        outcome.path,
        outcome.task,
        outcome.images,
        outcome.frames,
        outcome.skipped,
        round(outcome.seconds, 3),
    )


def _pair(size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    return (size, size) if isinstance(size, int) else size
