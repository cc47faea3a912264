"""Run an ultralytics YOLO detector over images: boxes per image, and COCO-results files.

`predict_boxes` is the one place where YOLO predictions become boxes; `detect run` writes them
as `predictions.json` and `track mot17` as MOT detections. ultralytics fetches weights, fonts
and settings over the network when it can; here it is kept offline and quiet, a missing weights
file fails at once, and no plots are drawn by it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.artifacts import atomic_write_json, staged_output_dir
from cvtool.core.boxes import xyxy_to_tlwh
from cvtool.core.console import make_progress, warn
from cvtool.core.errors import CvtoolError
from cvtool.core.outputs import visible
from cvtool.core.provenance import provenance
from cvtool.core.ultralytics_env import import_ultralytics
from cvtool.detect.categories import map_categories
from cvtool.detect.cocodata import load_ground_truth

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


@dataclass
class YoloOptions:
    """Inference settings. `imgsz`: N (longest side) or (height, width); `device`:
    auto|cpu|cuda|cuda:N|mps (None = auto)."""

    imgsz: int | tuple[int, int] = 640
    conf: float = 0.001
    iou: float = 0.7
    max_det: int = 300
    batch: int = 1
    device: str | None = None
    half: bool = False


@dataclass(frozen=True)
class ImageBoxes:
    """One image's detections: `xyxy` (N, 4) pixels, `scores` (N,), `classes` (N,) model class
    indices, all float64 / int64 NumPy arrays."""

    xyxy: np.ndarray
    scores: np.ndarray
    classes: np.ndarray

    @property
    def xywh(self) -> np.ndarray:
        """(N, 4) top-left corner, width and height."""
        return xyxy_to_tlwh(self.xyxy)


@dataclass
class ImageEntry:
    id: int
    path: Path


def load_yolo(weights: str | Path) -> Any:
    """A local checkpoint (`.pt`) or a model yaml (`yolov8n.yaml` builds random weights)."""
    path = Path(weights)
    if not path.is_file() and path.suffix not in (".yaml", ".yml"):
        raise CvtoolError(
            f"weights file not found: {path}",
            "pass a local checkpoint path (nothing is downloaded: pretrained weights need a copy "
            "on disk), or a model yaml such as yolov8n.yaml for an untrained model",
            param="weights",
        )
    YOLO = import_ultralytics().YOLO
    try:
        model = YOLO(str(weights))
    except Exception as e:  # ultralytics raises many types for a bad file or unknown yaml
        raise CvtoolError(
            f"cannot load YOLO model {weights}: {type(e).__name__}: {e}", param="weights"
        ) from None
    if model.task != "detect":
        raise CvtoolError(
            f"{weights} is a {model.task!r} model; a detection model is needed", param="weights"
        )
    return model


def list_images(
    images: Path, annotations: Path | None
) -> tuple[list[ImageEntry], dict[int, str] | None]:
    """Images to run on (those of the annotation file, else every image in the folder) and the
    annotation file's categories (None without one)."""
    if not images.is_dir():
        raise CvtoolError(f"image directory not found: {images}")
    if annotations is not None:
        gt = load_ground_truth(annotations)
        entries = [
            ImageEntry(int(im["id"]), images / str(im.get("file_name", "")))
            for im in gt.dataset["images"]
        ]
        missing = [e.path.name for e in entries if not e.path.is_file()]
        if missing:
            raise CvtoolError(
                f"{len(missing)} of the {len(entries)} images listed in {annotations} are not in "
                f"{images} (e.g. {', '.join(missing[:3])})",
                "the image folder must hold the images the annotation file lists",
                param="images",
            )
        return entries, gt.categories
    paths = [p for p in visible(images) if p.suffix.lower() in IMAGE_SUFFIXES]
    if not paths:
        raise CvtoolError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {images}")
    return [ImageEntry(i, p) for i, p in zip(image_ids(paths), paths, strict=True)], None


def image_ids(paths: Sequence[Path]) -> list[int]:
    """COCO image ids for images without an annotation file: the file stems when all are
    distinct numbers (COCO's own file names), else 1, 2, ... in order."""
    stems = [p.stem for p in paths]
    numeric = all(s.isdigit() for s in stems) and len({int(s) for s in stems}) == len(stems)
    return [int(s) for s in stems] if numeric else list(range(1, len(paths) + 1))


def ultralytics_device(device: str | None) -> str:
    """`auto|cpu|cuda|cuda:N|mps` (checked by `resolve_device`) as ultralytics names it:
    `cpu`, `mps` or the CUDA index."""
    from cvtool.core.device import resolve_device

    chosen = resolve_device(device)
    return str(chosen.index or 0) if chosen.type == "cuda" else chosen.type


def predict_boxes(
    model: Any,
    images: Sequence[str | Path],
    opts: YoloOptions,
    classes: Sequence[int] | None = None,
    description: str = "detecting",
) -> tuple[list[ImageBoxes], float]:
    """`model` on every image, `opts.batch` images per forward pass, with a progress bar: the
    boxes per image (in order) and the seconds spent in inference.

    `classes`: model class indices to keep (ultralytics filters them before its per-class NMS).
    """
    out: list[ImageBoxes] = []
    seconds = 0.0
    with make_progress() as progress:
        task = progress.add_task(description, total=len(images), status="")
        for start in range(0, len(images), opts.batch):
            chunk = images[start : start + opts.batch]
            boxes, chunk_seconds = predict_chunk(model, chunk, opts, classes)
            out.extend(boxes)
            seconds += chunk_seconds
            progress.advance(task, len(chunk))
    return out, seconds


def predict_chunk(
    model: Any,
    images: Sequence[str | Path | np.ndarray],
    opts: YoloOptions,
    classes: Sequence[int] | None = None,
) -> tuple[list[ImageBoxes], float]:
    """One forward pass over `images` (image files, or BGR arrays such as decoded video
    frames): the boxes per image and the seconds it took."""
    imgsz = list(opts.imgsz) if isinstance(opts.imgsz, tuple) else opts.imgsz
    sources = [im if isinstance(im, np.ndarray) else str(im) for im in images]
    tic = time.perf_counter()
    results = model.predict(
        sources, imgsz=imgsz, conf=opts.conf, iou=opts.iou, max_det=opts.max_det,
        device=ultralytics_device(opts.device), half=opts.half,
        classes=None if classes is None else list(classes), verbose=False, save=False,
    )  # fmt: skip
    seconds = time.perf_counter() - tic
    return [_boxes(result) for result in results], seconds


def _boxes(result: Any) -> ImageBoxes:
    boxes = result.boxes
    return ImageBoxes(
        xyxy=boxes.xyxy.cpu().numpy().astype(np.float64).reshape(-1, 4),
        scores=boxes.conf.cpu().numpy().astype(np.float64),
        classes=boxes.cls.cpu().numpy().astype(np.int64),
    )


def predict_images(
    model: Any, entries: list[ImageEntry], mapping: dict[int, int], opts: YoloOptions
) -> tuple[list[dict[str, Any]], float]:
    """COCO-results detections for every image (classes without a mapping dropped) and the
    wall-clock inference seconds."""
    boxes, seconds = predict_boxes(model, [e.path for e in entries], opts)
    preds = [p for e, b in zip(entries, boxes, strict=True) for p in to_coco(e.id, b, mapping)]
    return preds, seconds


def to_coco(image_id: int, boxes: ImageBoxes, mapping: dict[int, int]) -> list[dict[str, Any]]:
    """COCO results of one image's boxes; classes without a category id are left out."""
    return [
        {
            "image_id": image_id,
            "category_id": mapping[c],
            "bbox": b.tolist(),
            "score": round(float(s), 5),
        }
        for b, s, c in zip(boxes.xywh.round(2), boxes.scores, boxes.classes.tolist(), strict=True)
        if c in mapping
    ]


def class_names_of(model: Any) -> dict[int, str]:
    """`{class index: name}` of a YOLO model."""
    return {int(k): str(v) for k, v in model.names.items()}


def class_mapping(
    class_names: dict[int, str],
    categories: dict[int, str] | None,
    annotations: Path | None,
    category_map: str | Path | None,
) -> tuple[dict[int, int], list[str]]:
    """`{model class: category id}` (the identity without an annotation file) and the model
    classes left without a category (warned about)."""
    if categories is None:
        return {i: i for i in class_names}, []
    mapping, unmatched = map_categories(class_names, categories, category_map)
    if not mapping:
        raise CvtoolError(
            f"none of the model's {len(class_names)} class names (e.g. "
            f"{', '.join(list(class_names.values())[:3])}) matches a category of {annotations}",
            "map the model's classes with a JSON file {model class: category}, or with "
            "'index' (class i -> the i-th category)",
            param="category_map",
        )
    if unmatched:
        warn(f"{len(unmatched)} model class(es) without a category: " + ", ".join(unmatched[:10]))
    return mapping, unmatched


def run_yolo(
    weights: str | Path,
    images: Path,
    out: Path,
    annotations: Path | None = None,
    opts: YoloOptions | None = None,
    category_map: str | Path | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write `out/predictions.json` and `out/run.json`; return run.json's content."""
    opts = opts or YoloOptions()
    entries, categories = list_images(images, annotations)
    model = load_yolo(weights)
    class_names = class_names_of(model)
    mapping, unmatched = class_mapping(class_names, categories, annotations, category_map)
    with staged_output_dir(out, overwrite) as stage:
        preds, seconds = predict_images(model, entries, mapping, opts)
        atomic_write_json(stage / "predictions.json", preds)
        run = {
            "weights": str(weights),
            "images": str(images.resolve()),
            "annotations": None if annotations is None else str(annotations.resolve()),
            "options": vars(opts),
            "num_images": len(entries),
            "num_predictions": len(preds),
            "inference_seconds": round(seconds, 3),
            "images_per_second": round(len(entries) / seconds, 3) if seconds else None,
            "class_to_category": {class_names[k]: v for k, v in mapping.items()},
            "unmatched_classes": unmatched,
            **provenance("ultralytics", "torch"),
        }
        atomic_write_json(stage / "run.json", run)
    return run
