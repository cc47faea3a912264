"""Tiny trained runs (a U-Net and a small CNN, one epoch on the synthetic datasets), trained
once per module, and folders of new images no prepared dataset contains."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def _train(tmp: Path, model: str, data: Path, **options) -> Path:
    import cvtool

    common = {"epochs": 1, "batch_size": 4, "device": "cpu", "workers": 0}
    return cvtool.train(model, data, tmp / model, **common, **options).path


@pytest.fixture(scope="module")
def seg_run(tmp_path_factory) -> Path:
    """A U-Net run on classes bg/r/g (36x44 images), trained at 32x40."""
    from cvtool.synthetic.datasets import random_segmentation_dataset

    tmp = tmp_path_factory.mktemp("seg")
    data = random_segmentation_dataset(tmp / "data")
    return _train(tmp, "unet", data, width=4, upsample="bilinear", size="32x40")


@pytest.fixture(scope="module")
def cls_run(tmp_path_factory) -> Path:
    """A convnet run on classes a/b/c, trained at 32x32."""
    from cvtool.synthetic.datasets import random_classification_dataset

    tmp = tmp_path_factory.mktemp("cls")
    data = random_classification_dataset(tmp / "data")
    return _train(tmp, "convnet", data, size="32x32")


def write_images(folder: Path, sizes: list[tuple[int, int]], seed: int = 0) -> list[Path]:
    """Random RGB images of the given (height, width), as PNG and JPEG alternately."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (h, w) in enumerate(sizes):
        path = folder / f"img_{i}.{'png' if i % 2 == 0 else 'jpg'}"
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def new_images(tmp_path: Path) -> Path:
    """Four images of different sizes, none from a prepared dataset."""
    folder = tmp_path / "new"
    write_images(folder, [(50, 70), (33, 47), (64, 64), (21, 90)])
    return folder


def link_split_images(data: Path, split: str, folder: Path) -> list[str]:
    """Symlink the images of a prepared dataset's split into `folder`; their names."""
    names = (data / "splits" / f"{split}.txt").read_text().split()
    folder.mkdir()
    for name in names:
        (folder / name).symlink_to(data / "images" / name)
    return names
