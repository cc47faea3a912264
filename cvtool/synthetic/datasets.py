"""Tiny prepared datasets written straight in `prepare`'s layout, for tests and examples.

`write_segmentation_dataset` writes given images and masks; `random_segmentation_dataset` and
`random_classification_dataset` generate learnable ones (class = colour) of a few dozen pixels,
so a model trains on them in a second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from cvtool.core.artifacts import ClassInfo, DatasetManifest

COLORS = np.array([[30, 30, 30], [200, 40, 40], [40, 200, 40]], dtype=np.uint8)
SPLIT_SIZES = {"train": 8, "val": 4, "test": 2}


def write_segmentation_dataset(
    root: Path,
    samples: Mapping[str, tuple[np.ndarray, np.ndarray]],
    classes: Sequence[ClassInfo],
    splits: Mapping[str, Sequence[str]],
) -> Path:
    """`root/images/<name>`, `root/masks/<stem>.png`, `root/splits/<split>.txt` for the splits
    given, and `dataset.json`; `samples` maps an image file name to its `(RGB image, mask)`."""
    for sub in ("images", "masks", "splits"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name, (image, mask) in samples.items():
        Image.fromarray(image).save(root / "images" / name)
        Image.fromarray(mask, mode="L").save(root / "masks" / f"{Path(name).stem}.png")
    for split, names in splits.items():
        (root / "splits" / f"{split}.txt").write_text("\n".join(names) + "\n")
    counts = {split: len(names) for split, names in splits.items()}
    DatasetManifest("segmentation", list(classes), splits=counts).save(root)
    return root


def _rectangles(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Background with one or two coloured rectangles (class = colour), a few ignored pixels."""
    mask = np.zeros((h, w), np.uint8)
    for cls in rng.choice([1, 2], size=rng.integers(1, 3), replace=False):
        y, x = rng.integers(0, h - 8), rng.integers(0, w - 8)
        mask[y : y + rng.integers(6, h // 2 + 2), x : x + rng.integers(6, w // 2 + 2)] = cls
    image = COLORS[mask] + rng.integers(0, 25, (h, w, 3), dtype=np.uint8)
    mask[0, :3] = 255
    return image, mask


def random_segmentation_dataset(root: Path, h: int = 36, w: int = 44, seed: int = 0) -> Path:
    """Classes `bg, r, g`; 8/4/2 images in train/val/test, PNG and JPEG images mixed."""
    rng = np.random.default_rng(seed)
    classes = [ClassInfo(i, n, tuple(COLORS[i].tolist())) for i, n in enumerate(["bg", "r", "g"])]
    samples: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    splits: dict[str, list[str]] = {}
    for split, n in SPLIT_SIZES.items():
        splits[split] = []
        for i in range(n):
            name = f"{split}_{i:02d}.jpg" if i % 2 else f"{split}_{i:02d}.png"
            samples[name] = _rectangles(rng, h, w)
            splits[split].append(name)
    return write_segmentation_dataset(root, samples, classes, splits)


def random_classification_dataset(root: Path, size: int = 32, seed: int = 0) -> Path:
    """Classes `a, b, c` (one colour each, with noise); 8/4/2 images in train/val/test."""
    rng = np.random.default_rng(seed)
    classes = [ClassInfo(i, n, tuple(COLORS[i].tolist())) for i, n in enumerate(["a", "b", "c"])]
    (root / "splits").mkdir(parents=True)
    for split, n in SPLIT_SIZES.items():
        rows = ["path,label"]
        for i in range(n):
            label = i % 3
            image = (COLORS[label] + rng.integers(0, 40, (size, size, 3))).astype(np.uint8)
            rel = f"images/{classes[label].name}/{split}_{i}.png"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(root / rel)
            rows.append(f"{rel},{classes[label].name}")
        (root / "splits" / f"{split}.csv").write_text("\n".join(rows) + "\n")
    DatasetManifest(task="classification", classes=classes).save(root)
    return root
