"""A tiny generated image-folder set, prepared, and a convnet trained on it for one epoch."""

from __future__ import annotations

from pathlib import Path

import pytest

from cvtool.synthetic.shapes import write_shape_folder


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread):
    """Every test here runs tiny models on one intra-op thread."""


@pytest.fixture(scope="module")
def shapes_prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 classes x 8 images of 32x32, split 4/2/2 per class."""
    from cvtool.formats.folders import prepare_folder

    root = tmp_path_factory.mktemp("shapes")
    images = write_shape_folder(root / "raw", per_class=8, size=32, seed=1)
    return prepare_folder(images, root / "data", val=0.25, test=0.25, workers=1).path


@pytest.fixture(scope="module")
def trained_convnet(shapes_prepared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cvtool.engine.config import TrainConfig
    from cvtool.engine.trainer import train

    out = tmp_path_factory.mktemp("runs") / "convnet"
    config = TrainConfig(
        model="convnet",
        data=shapes_prepared,
        out=out,
        epochs=1,
        batch_size=8,
        size=(32, 32),
        device="cpu",
        workers=0,
    )
    return train(config).run_dir
