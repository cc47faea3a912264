"""Tiny synthetic prepared datasets (segmentation and classification) for the train tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cvtool.core.artifacts import ClassInfo, DatasetManifest

COLORS = np.array([[30, 30, 30], [200, 40, 40], [40, 200, 40]], dtype=np.uint8)
SPLIT_SIZES = {"train": 8, "val": 4, "test": 2}


def _seg_sample(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Background with one or two coloured rectangles (class = colour), a few ignored pixels."""
    mask = np.zeros((h, w), np.uint8)
    for cls in rng.choice([1, 2], size=rng.integers(1, 3), replace=False):
        y, x = rng.integers(0, h - 8), rng.integers(0, w - 8)
        mask[y : y + rng.integers(6, h // 2 + 2), x : x + rng.integers(6, w // 2 + 2)] = cls
    image = COLORS[mask] + rng.integers(0, 25, (h, w, 3), dtype=np.uint8)
    mask[0, :3] = 255
    return image, mask


def make_seg_dataset(root: Path, h: int = 36, w: int = 44, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    (root / "splits").mkdir()
    classes = [ClassInfo(i, n, tuple(COLORS[i].tolist())) for i, n in enumerate(["bg", "r", "g"])]
    counts = {}
    for split, n in SPLIT_SIZES.items():
        names = []
        for i in range(n):
            image, mask = _seg_sample(rng, h, w)
            name = f"{split}_{i:02d}.jpg" if i % 2 else f"{split}_{i:02d}.png"
            Image.fromarray(image).save(root / "images" / name)
            Image.fromarray(mask).save(root / "masks" / f"{Path(name).stem}.png")
            names.append(name)
        (root / "splits" / f"{split}.txt").write_text("\n".join(names) + "\n")
        counts[split] = n
    DatasetManifest(task="segmentation", classes=classes, splits=counts).save(root)
    return root


def make_cls_dataset(root: Path, size: int = 32, seed: int = 0) -> Path:
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


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny tensors: one intra-op thread is faster, and kinder to parallel test runs."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def seg_data(tmp_path: Path) -> Path:
    return make_seg_dataset(tmp_path / "seg")


@pytest.fixture
def cls_data(tmp_path: Path) -> Path:
    return make_cls_dataset(tmp_path / "cls")
