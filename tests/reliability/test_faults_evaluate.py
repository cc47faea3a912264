"""`evaluate --predictions`, `evaluate --merge` and `compare` killed at their file operations:
the eval dir (or comparison) is the old one or the complete new one, and no reader takes the
staging left for an eval dir."""

from __future__ import annotations

import os
from pathlib import Path

import complete
import pytest
from faults import sweep

import cvtool
from tests.segment.conftest import label_masks, noisy_predictions, write_dataset, write_predictions

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    pytest.mark.usefixtures("one_thread", "quick_figures"),
]


@pytest.fixture
def scored(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A dataset and two folders of predicted masks."""
    masks = label_masks()
    data = write_dataset(tmp_path / "data", masks)
    first = write_predictions(tmp_path / "p1", noisy_predictions(masks, seed=2))
    second = write_predictions(tmp_path / "p2", noisy_predictions(masks, seed=3))
    return data, first, second


def _evaluate(predictions: Path, data: Path, out: Path, **options: object) -> None:
    cvtool.evaluate_predictions(predictions, data, out=out, workers=1, max_failures=2, **options)


def test_evaluate_predictions(tmp_path: Path, scored) -> None:
    data, first, second = scored
    out = tmp_path / "evals" / "e"
    _evaluate(first, data, out)
    write = lambda: _evaluate(second, data, out, overwrite=True)  # noqa: E731
    refuse = lambda staging: cvtool.merge_evaluations([staging, out], tmp_path / "m")  # noqa: E731
    sweep("evaluate --predictions", {out: complete.eval_dir}, write, tmp_path, refuse=refuse)


def test_evaluate_merge(tmp_path: Path, scored) -> None:
    data, first, second = scored
    shards = [tmp_path / "s1", tmp_path / "s2"]
    for i, shard in enumerate(shards, 1):
        _evaluate(second, data, shard, shard=f"{i - 1}/2")
    out = tmp_path / "evals" / "merged"
    _evaluate(first, data, out)
    write = lambda: cvtool.merge_evaluations(shards, out, overwrite=True)  # noqa: E731
    refuse = lambda staging: cvtool.compare([staging], tmp_path / "c")  # noqa: E731
    sweep("evaluate --merge", {out: complete.eval_dir}, write, tmp_path, refuse=refuse)


def test_compare(tmp_path: Path, scored) -> None:
    data, first, second = scored
    evals = [tmp_path / "e1", tmp_path / "e2"]
    for predictions, out in zip((first, second), evals, strict=True):
        _evaluate(predictions, data, out)
    out = tmp_path / "comparisons" / "c"
    cvtool.compare(evals, out)

    def compared(path: Path) -> None:
        rows = complete.csv_rows(path / "comparison.csv")
        assert len(rows) == 3 and (path / "comparison.md").is_file()

    write = lambda: cvtool.compare(evals[::-1], out, overwrite=True)  # noqa: E731
    sweep("compare", {out: compared}, write, tmp_path)
