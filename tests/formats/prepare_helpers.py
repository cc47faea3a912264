"""Builders of tiny raw datasets for the prepare tests, with exact, known pixels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image


def rle(mask: np.ndarray) -> dict[str, Any]:
    """Compressed COCO RLE (counts as str) of a boolean mask."""
    from pycocotools import mask as mask_utils

    encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": list(mask.shape), "counts": encoded["counts"].decode("ascii")}


def box(h: int, w: int, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    mask = np.zeros((h, w), dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def write_image(path: Path, h: int, w: int, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path)
    return path


class CocoBuilder:
    """Accumulates images and annotations; `write()` saves the JSON and the image files."""

    def __init__(self, root: Path, categories: dict[str, int]) -> None:
        self.root = root
        self.categories = categories
        self.images: list[dict[str, Any]] = []
        self.annotations: list[dict[str, Any]] = []

    def image(self, name: str, h: int = 8, w: int = 10) -> int:
        image_id = len(self.images) + 1
        self.images.append({"id": image_id, "file_name": name, "height": h, "width": w})
        write_image(self.root / "images" / name, h, w, seed=image_id)
        return image_id

    def ann(self, image_id: int, category: str, segmentation: Any, iscrowd: int = 0) -> None:
        self.annotations.append(
            {
                "id": len(self.annotations) + 1,
                "image_id": image_id,
                "category_id": self.categories[category],
                "segmentation": segmentation,
                "iscrowd": iscrowd,
                "area": 1.0,
                "bbox": [0, 0, 1, 1],
            }
        )

    def write(self) -> Path:
        path = self.root / "instances.json"
        categories = [{"id": i, "name": n} for n, i in self.categories.items()]
        data = {"images": self.images, "annotations": self.annotations, "categories": categories}
        path.write_text(json.dumps(data))
        return path


def read_mask(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.mode == "L"
        return np.asarray(im).copy()
