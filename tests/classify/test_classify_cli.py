"""CLI: train a classifier for one epoch, evaluate it, compare eval dirs; bad inputs."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from cvtool.core.artifacts import DatasetManifest

EVAL_ARGS = ("--device", "cpu", "--workers", "1", "--batch-size", "3")


@pytest.fixture(scope="module")
def evaluated(trained_convnet: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from typer.testing import CliRunner

    from cvtool.cli.main import app

    out = tmp_path_factory.mktemp("eval") / "eval-test"
    args = [str(trained_convnet), "--split", "test", "--out", str(out), "--max-failures", "3"]
    result = CliRunner().invoke(app, ["evaluate", *args, *EVAL_ARGS, "--tsne-max", "6"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == str(out)
    assert "accuracy" in result.stderr and "macro F1" in result.stderr
    return out


def test_train_cli_writes_accuracy_history(cli, shapes_prepared: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ("--data", shapes_prepared, "--out", out, "--epochs", "1", "--size", "32x32")
    result = cli("train", "convnet", *args, "--workers", "0", "--device", "cpu")
    assert result.exit_code == 0, result.stderr
    with (out / "history.csv").open() as f:
        header = next(csv.reader(f))
    for column in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        assert column in header
    options = json.loads((out / "run.json").read_text())["options"]
    expected = {"optimizer": "adam", "lr": 1e-3, "weight_decay": 1e-4, "scheduler": "onecycle"}
    assert {k: options[k] for k in expected} == expected and options["label_smoothing"] == 0.1


def test_eval_dir_contents_agree_with_sklearn(evaluated: Path, shapes_prepared: Path) -> None:
    metrics = json.loads((evaluated / "metrics.json").read_text())
    assert metrics["task"] == "classification" and metrics["images"] == 8
    names = DatasetManifest.load(shapes_prepared).class_names
    with (evaluated / "predictions.csv").open() as f:
        rows = list(csv.DictReader(f))
    truth = [names.index(r["label"]) for r in rows]
    pred = [names.index(r["predicted"]) for r in rows]
    head = metrics["headline"]
    assert head["accuracy"] == pytest.approx(accuracy_score(truth, pred))
    assert head["macro_f1"] == pytest.approx(f1_score(truth, pred, average="macro"))
    with (evaluated / "confusion.csv").open() as f:
        matrix = np.array([[int(v) for v in row[1:]] for row in list(csv.reader(f))[1:]])
    np.testing.assert_array_equal(matrix, confusion_matrix(truth, pred, labels=range(len(names))))
    calibration = json.loads((evaluated / "calibration.json").read_text())
    assert calibration["ece"] == pytest.approx(head["ece"]) and calibration["total"] == 8
    wrong = sorted(
        (float(r["confidence"]) for r in rows if r["label"] != r["predicted"]), reverse=True
    )
    assert [f["confidence"] for f in metrics["failures"]] == pytest.approx(wrong[:3], abs=1e-6)
    assert metrics["misclassified"] == len(wrong)
    for plot in ("confusion", "reliability", "tsne_2d", "tsne_3d"):
        assert (evaluated / "plots" / f"{plot}.png").stat().st_size > 1000
    assert (evaluated / "failures" / "misclassified.png").is_file() == bool(wrong)
    assert metrics["tsne"]["images"] == {"train": 6, "val": 6}
    assert metrics["tsne"]["feature_dim"] == 128 * 2 * 2  # 32x32 input
    with (evaluated / "tsne.csv").open() as f:
        assert len(list(csv.reader(f))) == 13


def test_compare_classifier_eval_dirs(cli, evaluated: Path, tmp_path: Path) -> None:
    other = tmp_path / "other" / "eval-test"
    shutil.copytree(evaluated, other)
    meta = json.loads((other / "metrics.json").read_text())
    meta["source"]["name"] = "other"
    meta["headline"]["accuracy"] = 1.0
    (other / "metrics.json").write_text(json.dumps(meta))
    result = cli("compare", evaluated, other, "--out", tmp_path / "cmp")
    assert result.exit_code == 0, result.stderr
    table = (tmp_path / "cmp" / "comparison.csv").read_text().splitlines()
    assert table[0].startswith("model,split,images,accuracy,macro_f1,ece")
    assert "| **1.0** |" in (tmp_path / "cmp" / "comparison.md").read_text()


def test_compare_refuses_mixed_tasks(cli, evaluated: Path, tmp_path: Path) -> None:
    seg = tmp_path / "seg"
    seg.mkdir()
    other = {"task": "segmentation", "images": 1, "headline": {}, "source": {}}
    (seg / "metrics.json").write_text(json.dumps(other))
    result = cli("compare", evaluated, seg, "--out", tmp_path / "cmp")
    assert result.exit_code == 1
    assert "different tasks" in result.stderr and str(seg) in result.stderr


def test_merge_refuses_classification(cli, evaluated: Path, tmp_path: Path) -> None:
    result = cli("evaluate", "--merge", evaluated, evaluated, "--out", tmp_path / "m")
    assert result.exit_code == 1 and "classification evaluation" in result.stderr


def test_classifier_refuses_shard(cli, trained_convnet: Path, tmp_path: Path) -> None:
    result = cli("evaluate", trained_convnet, "--shard", "0/2", "--out", tmp_path / "e")
    assert result.exit_code == 1 and "classifier" in result.stderr


def _copy_data(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def test_class_mismatch(cli, trained_convnet: Path, shapes_prepared: Path, tmp_path: Path) -> None:
    data = _copy_data(shapes_prepared, tmp_path / "data")
    manifest = json.loads((data / "dataset.json").read_text())
    manifest["classes"] = manifest["classes"][:3]
    (data / "dataset.json").write_text(json.dumps(manifest))
    for split in ("train", "val", "test"):  # keep the csvs consistent with three classes
        path = data / "splits" / f"{split}.csv"
        lines = path.read_text().splitlines()
        path.write_text("\n".join(line for line in lines if "triangle" not in line) + "\n")
    result = cli("evaluate", trained_convnet, "--data", data, "--out", tmp_path / "e", *EVAL_ARGS)
    assert result.exit_code == 1
    assert "trained on 4 classes" in result.stderr and "dataset.json" in result.stderr
    assert not (tmp_path / "e").exists()


def test_missing_image(cli, trained_convnet: Path, shapes_prepared: Path, tmp_path: Path) -> None:
    data = _copy_data(shapes_prepared, tmp_path / "data")
    first = (data / "splits" / "test.csv").read_text().splitlines()[1].split(",")[0]
    (data / first).unlink()
    result = cli("evaluate", trained_convnet, "--data", data, "--out", tmp_path / "e", *EVAL_ARGS)
    assert result.exit_code == 1
    assert "images of split 'test' are missing" in result.stderr and first in result.stderr


def test_empty_split(cli, trained_convnet: Path, shapes_prepared: Path, tmp_path: Path) -> None:
    data = _copy_data(shapes_prepared, tmp_path / "data")
    (data / "splits" / "test.csv").write_text("path,label\n")
    result = cli("evaluate", trained_convnet, "--data", data, "--out", tmp_path / "e", *EVAL_ARGS)
    assert result.exit_code == 1
    assert "split 'test'" in result.stderr and "is empty" in result.stderr


def test_segmentation_dataset_for_a_classifier(cli, trained_convnet: Path, tmp_path: Path) -> None:
    from cvtool.core.artifacts import ClassInfo

    data = tmp_path / "seg"
    DatasetManifest(task="segmentation", classes=[ClassInfo(0, "a", (0, 0, 0))]).save(data)
    result = cli("evaluate", trained_convnet, "--data", data, "--out", tmp_path / "e")
    assert result.exit_code == 1 and "segmentation dataset" in result.stderr


def test_corrupt_image(cli, trained_convnet: Path, shapes_prepared: Path, tmp_path: Path) -> None:
    data = _copy_data(shapes_prepared, tmp_path / "data")
    first = (data / "splits" / "test.csv").read_text().splitlines()[1].split(",")[0]
    (data / first).unlink()
    (data / first).write_bytes(b"\x89PNG\r\n\x1a\n not really")
    result = cli("evaluate", trained_convnet, "--data", data, "--out", tmp_path / "e", *EVAL_ARGS)
    assert result.exit_code == 1 and first in result.stderr
    assert not (tmp_path / "e").exists()


def test_unknown_label(cli, trained_convnet: Path, shapes_prepared: Path, tmp_path: Path) -> None:
    data = _copy_data(shapes_prepared, tmp_path / "data")
    path = data / "splits" / "test.csv"
    path.write_text(path.read_text().replace(",star", ",hexagon", 1))
    result = cli("evaluate", trained_convnet, "--data", data, "--out", tmp_path / "e", *EVAL_ARGS)
    assert result.exit_code == 1
    assert "test.csv, line" in result.stderr and "'hexagon' is not a class" in result.stderr


def test_empty_val_split_leaves_tsne_to_train(
    cli, trained_convnet: Path, shapes_prepared: Path, tmp_path: Path
) -> None:
    data = _copy_data(shapes_prepared, tmp_path / "data")
    (data / "splits" / "val.csv").write_text("path,label\n")
    out = tmp_path / "e"
    result = cli("evaluate", trained_convnet, "--data", data, "--out", out, *EVAL_ARGS)
    assert result.exit_code == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["tsne"]["images"] == {"train": 16}
    assert any("leaves out split 'val'" in note for note in metrics["notes"])


def test_nonfinite_logits_are_reported(cli, trained_convnet: Path, tmp_path: Path) -> None:
    import torch

    run = tmp_path / "run"
    shutil.copytree(trained_convnet, run)
    best = run / "checkpoints" / "best.pt"
    raw = torch.load(best, weights_only=True)
    raw["model"]["classifier.weight"][0] = 3e38  # finite, but its sums overflow float32
    torch.save(raw, best)
    result = cli("evaluate", run, "--split", "test", *EVAL_ARGS, "--tsne-max", "0")
    assert result.exit_code == 0, result.stderr
    assert "warning: the model's outputs hold NaN or Inf for 8 of 8 image(s)" in result.stderr
    metrics = json.loads((run / "eval-test" / "metrics.json").read_text())
    assert metrics["nonfinite_outputs"] == {"images": 8}
    assert len(metrics["warnings"]) == 1 and "NaN or Inf" in metrics["warnings"][0]
