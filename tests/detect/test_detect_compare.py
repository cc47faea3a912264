"""`cvtool compare` on detection eval dirs, and eval dirs of different kinds refused."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from detect_fixtures import TINY_MAP, TINY_PREDICTIONS, write_json

import cvtool


@pytest.fixture
def detection_evals(tmp_path: Path, tiny_gt_path: Path) -> tuple[Path, Path]:
    """Two eval dirs: the tiny predictions, and the same without the false positive."""
    dirs = []
    for name, preds in (("full", TINY_PREDICTIONS), ("clean", TINY_PREDICTIONS[:2])):
        path = write_json(tmp_path / f"{name}.json", preds)
        result = cvtool.evaluate_detections(path, tiny_gt_path, tmp_path / name, plots=False)
        dirs.append(result.path)
    return dirs[0], dirs[1]


def test_compare_detection_eval_dirs(cli, detection_evals: tuple[Path, Path], tmp_path) -> None:
    full, clean = detection_evals
    result = cli("compare", full, clean, "--out", tmp_path / "cmp", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["task"] == "detection"
    assert [m["model"] for m in summary["models"]] == ["full", "clean"]
    assert "detection comparison" in result.stderr and "dAP Cls" in result.stderr
    with (tmp_path / "cmp" / "comparison.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:4] == ["model", "annotations", "AP", "AP50"]
    for row, directory in zip(rows, (full, clean), strict=True):
        stats = json.loads((directory / "coco_eval.json").read_text())["stats"]
        tide = json.loads((directory / "tide.json").read_text())["by_scale"]["all"]
        assert float(row["AP"]) == stats["AP"] and float(row["AP75"]) == stats["AP75"]
        assert float(row["tide_bkg"]) == tide["main_errors"]["Bkg"]  # full precision
        assert row["annotations"] == "tiny.json" and row["ece"]
    assert float(rows[0]["AP50"]) == pytest.approx(TINY_MAP)
    markdown = (tmp_path / "cmp" / "comparison.md").read_text()
    assert "| dAP Miss |" in markdown and "dAP Bkg ↓" in markdown
    full_row = next(line for line in markdown.splitlines() if line.startswith("| full"))
    assert f"**{float(rows[0]['AP_large'])!r}**" in full_row


def test_compare_refuses_mixed_kinds(cli, detection_evals: tuple[Path, Path], tmp_path) -> None:
    tracking = tmp_path / "tracking"
    tracking.mkdir()
    write_json(tracking / "summary.json", {"combined": {}, "sequences": [], "gt": "MOT17"})
    segmentation = tmp_path / "segmentation"
    segmentation.mkdir()
    write_json(
        segmentation / "metrics.json",
        {"task": "segmentation", "images": 1, "headline": {}, "source": {}},
    )
    result = cli("compare", detection_evals[0], tracking, segmentation, "--out", tmp_path / "c")
    assert result.exit_code == 1 and "different tasks" in result.stderr
    text = " ".join(result.stderr.split())
    assert f"detection: {detection_evals[0]}" in text and f"tracking: {tracking}" in text
    assert f"segmentation: {segmentation}" in text
    result = cli("compare", detection_evals[0], tmp_path / "nothing", "--out", tmp_path / "c")
    assert result.exit_code == 1 and "is not an eval directory" in result.stderr
    assert not (tmp_path / "c").exists()
