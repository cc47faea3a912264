"""The train tests run tiny models (datasets: `seg_data` and `cls_data` in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread):
    """Every test here runs tiny models on one intra-op thread."""
