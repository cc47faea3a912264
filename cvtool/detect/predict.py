"""Apply a YOLO detector to new images: COCO-format results with file names, and each image
with its boxes drawn.

`predictions.json` is a COCO results list (`image_id`, `category_id`, `bbox` [x, y, w, h],
`score`) with `file_name` and `category_name` on every detection. With an annotation file the
image ids and category ids are that file's (so `detect eval` scores it); without one, image ids
are the file stems when they are numbers, else 1, 2, ... and category ids the model's classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.artifacts import atomic_write_json
from cvtool.core.images import read_rgb, write_rgb_png
from cvtool.core.palette import voc_colormap
from cvtool.core.sources import SourceItem
from cvtool.detect.cocodata import load_ground_truth
from cvtool.detect.yolo import (
    ImageBoxes,
    YoloOptions,
    class_mapping,
    class_names_of,
    image_ids,
    predict_boxes,
    to_coco,
)

PREDICTIONS_FILE = "predictions.json"
BOXES_DIR = "boxes"
_COLORS = voc_colormap(256)[1:]  # no black


def draw_boxes(image: np.ndarray, boxes: ImageBoxes, names: dict[int, str]) -> np.ndarray:
    """`image` (H, W, 3) with each box outlined in its class colour and labelled."""
    from PIL import Image, ImageDraw

    picture = Image.fromarray(image)
    draw = ImageDraw.Draw(picture)
    width = max(2, round(max(image.shape[:2]) / 400))
    for (x0, y0, x1, y1), score, cls in zip(boxes.xyxy, boxes.scores, boxes.classes, strict=True):
        color = tuple(int(c) for c in _COLORS[int(cls) % len(_COLORS)])
        draw.rectangle((x0, y0, x1, y1), outline=color, width=width)
        label = f"{names.get(int(cls), int(cls))} {score:.2f}"
        left, top, right, bottom = draw.textbbox((x0, y0), label)
        lift = bottom - top + 2
        draw.rectangle((left, top - lift, right + 2, bottom - lift), fill=color)
        draw.text((x0 + 1, y0 - lift), label, fill=(0, 0, 0))
    return np.asarray(picture)


def _annotated_ids(annotations: Path) -> tuple[dict[str, int], dict[int, str]]:
    """`{file name: image id}` of the annotation file, and its categories."""
    gt = load_ground_truth(annotations)
    ids = {Path(str(im.get("file_name", ""))).name: int(im["id"]) for im in gt.dataset["images"]}
    return ids, gt.categories


def detect_items(
    model: Any,
    items: Sequence[SourceItem],
    out: Path,
    opts: YoloOptions,
    annotations: Path | None = None,
    category_map: str | Path | None = None,
) -> tuple[dict[str, Any], list[tuple[SourceItem, str]]]:
    """Detect on readable images `items`, write `predictions.json` and `boxes/NAME.png` into
    `out`; return a summary and the items skipped (not in the annotation file) with why."""
    names = class_names_of(model)
    skipped: list[tuple[SourceItem, str]] = []
    if annotations is None:
        ids = dict(zip(items, image_ids([i.path for i in items]), strict=True))
        mapping, unmatched = class_mapping(names, None, None, category_map)
        categories = names
    else:
        by_file, categories = _annotated_ids(annotations)
        skipped = [
            (i, f"not an image of {annotations}") for i in items if i.path.name not in by_file
        ]
        items = [i for i in items if i.path.name in by_file]
        ids = {i: by_file[i.path.name] for i in items}
        mapping, unmatched = class_mapping(names, categories, annotations, category_map)
    boxes, seconds = predict_boxes(model, [i.path for i in items], opts)
    results = []
    for item, image_boxes in zip(items, boxes, strict=True):
        for det in to_coco(ids[item], image_boxes, mapping):
            category = categories[det["category_id"]]
            results.append({**det, "file_name": item.path.name, "category_name": category})
        drawn = draw_boxes(read_rgb(item.path), image_boxes, names)
        write_rgb_png(out / BOXES_DIR / item.output(".png"), drawn)
    atomic_write_json(out / PREDICTIONS_FILE, results)
    summary = {
        "images": len(items),
        "detections": len(results),
        "inference_seconds": round(seconds, 3),
        "class_to_category": {names[k]: v for k, v in mapping.items()},
        "unmatched_classes": unmatched,
    }
    return summary, skipped
