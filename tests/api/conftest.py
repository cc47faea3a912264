"""Fixtures of the Python API tests: the synthetic shapes in COCO format, prepared."""

from __future__ import annotations

from pathlib import Path

import pytest

from cvtool.synthetic.shapes import SHAPES, make_coco_shapes


@pytest.fixture
def shapes_coco(tmp_path: Path) -> tuple[Path, Path]:
    """(annotations JSON, images dir) of 8 synthetic 24x24 images."""
    return make_coco_shapes(tmp_path / "raw", num_images=8, size=24)


@pytest.fixture
def shapes_data(tmp_path: Path, shapes_coco: tuple[Path, Path]) -> Path:
    """The shapes prepared into a segmentation dataset (4 train, 2 val, 2 test images)."""
    import cvtool

    annotations, images = shapes_coco
    result = cvtool.prepare_coco(
        annotations,
        images,
        list(SHAPES),
        tmp_path / "data",
        split=(0.5, 0.25, 0.25),
        include_empty=True,
        workers=1,
    )
    return result.path
