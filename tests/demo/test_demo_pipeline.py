"""`cvtool demo` end to end: every leg writes its artifacts and the summary names them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.mark.slow
def test_demo_runs_every_stage(cli, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "demo"
    result = cli("demo", "--out", out, "--workers", 1, "--epochs", 1, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    stages = [s["stage"] for s in summary["steps"]]
    assert stages == [s["stage"] for s in json.loads((out / "demo.json").read_text())["steps"]]
    assert {"prepare", "train", "calibrate", "evaluate", "classify", "detect", "track"} <= set(
        stages
    )
    assert (out / "prepare" / "shapes" / "dataset.json").is_file()
    assert (out / "train" / "unet" / "checkpoints" / "best.pt").is_file()
    assert json.loads((out / "train" / "unet" / "run.json").read_text())["calibration"]
    evaluated = json.loads((out / "evaluate" / "unet-test" / "metrics.json").read_text())
    assert evaluated["calibration"]["applied"]["method"] == "temperature"
    assert "ECE on test, raw" in result.stderr
    assert (out / "classify" / "convnet" / "eval-test" / "metrics.json").is_file()
    assert (out / "detect" / "coco_eval.json").is_file()
    assert (out / "track" / "runs" / "metrics.csv").is_file()
    # a second run reuses the demo's own directory (one leg is enough to show it)
    from cvtool.demo import pipeline

    monkeypatch.setattr(pipeline, "LEGS", pipeline.LEGS[-1:])
    before = (out / "track" / "runs" / "metrics.csv").stat().st_mtime_ns
    assert cli("demo", "--out", out, "--workers", 1).exit_code == 0
    assert (out / "track" / "runs" / "metrics.csv").stat().st_mtime_ns != before
    assert (out / "train" / "unet" / "checkpoints" / "best.pt").is_file()


def test_demo_refuses_a_foreign_directory(cli, tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    result = cli("demo", "--out", tmp_path)
    assert result.exit_code == 1
    assert "not written by `cvtool demo`" in result.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me"
