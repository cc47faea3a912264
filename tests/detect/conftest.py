"""Fixtures for the detect stage: a tiny hand-made COCO file and the real COCO subset."""

from __future__ import annotations

from pathlib import Path

import pytest
from detect_fixtures import tiny_dataset, write_json

from cvtool.detect.cocodata import GroundTruth, load_ground_truth


@pytest.fixture
def tiny_gt_path(tmp_path: Path) -> Path:
    return write_json(tmp_path / "tiny.json", tiny_dataset())


@pytest.fixture
def tiny_gt(tiny_gt_path: Path) -> GroundTruth:
    return load_ground_truth(tiny_gt_path)


@pytest.fixture
def coco_annotations(shared_data: Path) -> Path:
    path = shared_data / "coco" / "annotations" / "instances_val2017.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="session")
def _real_gt_cache() -> dict[str, GroundTruth]:
    return {}


@pytest.fixture
def coco_gt(coco_annotations: Path, _real_gt_cache: dict[str, GroundTruth]) -> GroundTruth:
    """The real ground truth, loaded once per test run (tests must not mutate it)."""
    key = str(coco_annotations)
    if key not in _real_gt_cache:
        _real_gt_cache[key] = load_ground_truth(coco_annotations)
    return _real_gt_cache[key]
