"""Hand-made COCO data for the detect tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_json(path: Path, obj: Any) -> Path:
    path.write_text(json.dumps(obj))
    return path


def tiny_dataset() -> dict[str, Any]:
    """Two 100x100 images; cat/dog/bird (bird has no objects); one crowd cat region.

    Areas: cat#1 400 (small), dog#2 1600 (medium), cat#3 3600 (medium), dog#4 10000 (large).
    """
    return {
        "images": [
            {"id": 1, "file_name": "a.jpg", "width": 100, "height": 100},
            {"id": 2, "file_name": "b.jpg", "width": 100, "height": 100},
        ],
        "categories": [
            {"id": 1, "name": "cat"},
            {"id": 2, "name": "dog"},
            {"id": 3, "name": "bird"},
        ],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "area": 400,
             "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [50, 50, 40, 40], "area": 1600,
             "iscrowd": 0},
            {"id": 3, "image_id": 2, "category_id": 1, "bbox": [0, 0, 60, 60], "area": 3600,
             "iscrowd": 0},
            {"id": 4, "image_id": 2, "category_id": 2, "bbox": [0, 0, 100, 100], "area": 10000,
             "iscrowd": 0},
            {"id": 5, "image_id": 2, "category_id": 1, "bbox": [70, 70, 30, 30], "area": 900,
             "iscrowd": 1},
        ],
    }  # fmt: skip


def det(image: int, cat: int, box: list[float], score: float) -> dict[str, Any]:
    return {"image_id": image, "category_id": cat, "bbox": box, "score": score}


# Hand-checked: dog perfect (AP 1); cat TP .9, FP .8, TP .7 -> AP (51 + 50 * 2/3) / 101.
TINY_PREDICTIONS = [
    det(1, 2, [50, 50, 40, 40], 0.95),
    det(1, 1, [10, 10, 20, 20], 0.9),
    det(1, 1, [60, 5, 20, 20], 0.8),
    det(2, 1, [0, 0, 60, 60], 0.7),
    det(2, 2, [0, 0, 100, 100], 0.95),
]
TINY_CAT_AP = (51 + 50 * 2 / 3) / 101
TINY_MAP = (TINY_CAT_AP + 1) / 2
