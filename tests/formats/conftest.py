"""Fixtures of the prepare tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from prepare_helpers import CocoBuilder


@pytest.fixture
def coco_builder(tmp_path: Path) -> CocoBuilder:
    return CocoBuilder(tmp_path / "raw", {"person": 1, "car": 3, "dog": 18, "cat": 17})
