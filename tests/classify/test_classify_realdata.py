"""Imagenette: prepare, one epoch of the convnet at 32x32, evaluate on the test split."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sklearn.metrics import accuracy_score, f1_score


@pytest.mark.realdata
@pytest.mark.slow
def test_imagenette_prepare_train_evaluate(cli, shared_data: Path, tmp_path: Path) -> None:
    root = shared_data / "imagenette"
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    data, run = tmp_path / "data", tmp_path / "convnet"
    args = ("--root", root, "--out", data, "--val", "0.2", "--test", "0.2", "--workers", "2")
    assert cli("prepare", "folder", *args).exit_code == 0
    manifest = json.loads((data / "dataset.json").read_text())
    assert len(manifest["classes"]) == 10
    train = ("--data", data, "--out", run, "--epochs", "1", "--size", "32x32", "--workers", "0")
    assert cli("train", "convnet", *train, "--device", "cpu", "--batch-size", "32").exit_code == 0
    result = cli("evaluate", run, "--device", "cpu", "--workers", "2", "--tsne-max", "30")
    assert result.exit_code == 0, result.stderr
    eval_dir = Path(result.stdout.strip().splitlines()[-1])
    metrics = json.loads((eval_dir / "metrics.json").read_text())
    assert metrics["images"] == manifest["splits"]["test"]
    with (eval_dir / "predictions.csv").open() as f:
        rows = list(csv.DictReader(f))
    truth, pred = [r["label"] for r in rows], [r["predicted"] for r in rows]
    assert metrics["headline"]["accuracy"] == pytest.approx(accuracy_score(truth, pred))
    assert metrics["headline"]["macro_f1"] == pytest.approx(f1_score(truth, pred, average="macro"))
    assert metrics["tsne"]["images"] == {"train": 30, "val": 30}
