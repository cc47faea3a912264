"""A tiny prepared segmentation dataset and predicted masks with known scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cvtool.core.artifacts import ClassInfo
from cvtool.synthetic.datasets import write_segmentation_dataset

CLASSES = [ClassInfo(0, "road", (128, 64, 128)), ClassInfo(1, "car", (64, 0, 128)),
           ClassInfo(2, "tree", (128, 128, 0))]  # fmt: skip
NAMES = ["a.png", "b.png", "c.png", "d.png"]
SHAPE = (6, 8)


def label_masks(seed: int = 0) -> dict[str, np.ndarray]:
    """Random labels over classes 0 and 1 (class 2 never appears), 10 % ignored."""
    rng = np.random.default_rng(seed)
    masks = {}
    for name in NAMES:
        mask = rng.integers(0, 2, SHAPE).astype(np.uint8)
        mask[rng.random(SHAPE) < 0.1] = 255
        masks[name] = mask
    return masks


def write_dataset(
    root: Path, masks: dict[str, np.ndarray], splits: dict[str, list[str]] | None = None
) -> Path:
    """A prepared dataset dir; every image in the `test` split unless `splits` says otherwise."""
    rng = np.random.default_rng(1)
    samples = {}
    for name, mask in masks.items():
        image = rng.integers(0, 255, (*mask.shape, 3), dtype=np.uint8)
        image[..., 0] = np.where(mask == 1, 220, image[..., 0] // 4)  # learnable: red = car
        samples[name] = (image, mask)
    return write_segmentation_dataset(root, samples, CLASSES, splits or {"test": list(masks)})


def write_predictions(root: Path, preds: dict[str, np.ndarray]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, pred in preds.items():
        Image.fromarray(pred, mode="L").save(root / f"{Path(name).stem}.png")
    return root


def noisy_predictions(masks: dict[str, np.ndarray], seed: int = 2) -> dict[str, np.ndarray]:
    """Labels with ~30 % of pixels flipped to another class (0, 1 or 2)."""
    rng = np.random.default_rng(seed)
    preds = {}
    for name, mask in masks.items():
        pred = np.where(mask == 255, 0, mask).astype(np.uint8)
        flip = rng.random(SHAPE) < 0.3
        pred[flip] = rng.integers(0, 3, int(flip.sum()))
        preds[name] = pred
    return preds


@pytest.fixture
def masks() -> dict[str, np.ndarray]:
    return label_masks()


@pytest.fixture
def dataset(tmp_path: Path, masks: dict[str, np.ndarray]) -> Path:
    return write_dataset(tmp_path / "data", masks)


@pytest.fixture
def predictions(tmp_path: Path, masks: dict[str, np.ndarray]) -> tuple[Path, dict]:
    preds = noisy_predictions(masks)
    return write_predictions(tmp_path / "preds", preds), preds
