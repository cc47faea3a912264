"""`cvtool evaluate --predictions`: scores of index-mask PNGs, artifacts and bad inputs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import confusion_matrix, jaccard_score, precision_recall_fscore_support

from tests.segment.conftest import NAMES, write_dataset, write_predictions


def _flat(masks: dict, preds: dict) -> tuple[np.ndarray, np.ndarray]:
    target = np.concatenate([masks[n].ravel() for n in NAMES])
    pred = np.concatenate([preds[n].ravel() for n in NAMES])
    keep = target != 255
    return target[keep], pred[keep]


def test_scores_match_sklearn_and_artifacts_are_written(cli, dataset, predictions, masks, tmp_path):
    pred_dir, preds = predictions
    out = tmp_path / "eval"
    result = cli("evaluate", "--predictions", pred_dir, "--data", dataset, "--out", out,
                 "--workers", 1)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(out)

    metrics = json.loads((out / "metrics.json").read_text())
    target, pred = _flat(masks, preds)
    labels = [0, 1]  # class 2 is never in the labels but is predicted: present, IoU 0
    cm = confusion_matrix(target, pred, labels=[0, 1, 2])
    np.testing.assert_array_equal(
        np.loadtxt(out / "confusion.csv", delimiter=",", skiprows=1, usecols=(1, 2, 3)), cm
    )
    iou = jaccard_score(target, pred, labels=[0, 1, 2], average=None, zero_division=0)
    p, r, f1, support = precision_recall_fscore_support(
        target, pred, labels=[0, 1, 2], zero_division=0
    )
    rows = metrics["classes"]
    for c in range(3):
        assert rows[c]["iou"] == pytest.approx(iou[c])
        assert rows[c]["dice"] == pytest.approx(f1[c])
        assert rows[c]["precision"] == pytest.approx(p[c])
        assert rows[c]["recall"] == pytest.approx(r[c])
        assert rows[c]["support"] == support[c]
        assert rows[c]["ap"] is None
    head = metrics["headline"]
    assert head["miou"] == pytest.approx(iou.mean())
    assert head["pixel_accuracy"] == pytest.approx((target == pred).mean())
    assert head["mean_class_accuracy"] == pytest.approx(r[labels].mean())
    assert head["ece"] is None and head["mean_ap"] is None
    calibration = json.loads((out / "calibration.json").read_text())
    assert calibration["available"] is False and "probabilities" in calibration["reason"]
    assert any("calibration" in note for note in metrics["notes"])

    with (out / "per_image.csv").open() as f:
        per_image = {row["name"]: float(row["iou"]) for row in csv.DictReader(f)}
    for name in NAMES:
        keep = masks[name] != 255
        t, q = masks[name][keep], preds[name][keep]
        present = np.union1d(t, q)
        expected = jaccard_score(t, q, labels=present, average=None, zero_division=0).mean()
        assert per_image[name] == pytest.approx(expected, abs=1e-6)
    bins = list(csv.DictReader((out / "iou_bins.csv").open()))
    assert [int(b["images"]) for b in bins] == np.histogram(
        list(per_image.values()), bins=10, range=(0, 1)
    )[0].tolist()
    assert sum(int(b["classes"]) for b in bins) == 3
    for plot in ("confusion", "iou_histograms"):
        assert (out / "plots" / f"{plot}.png").stat().st_size > 1000
    assert not (out / "plots" / "reliability.png").exists()
    assert (out / "state.npz").is_file()


def test_absent_class_is_reported_as_absent(cli, dataset, masks, tmp_path):
    preds = {n: np.where(m == 255, 0, m).astype(np.uint8) for n, m in masks.items()}
    pred_dir = write_predictions(tmp_path / "perfect", preds)
    result = cli("evaluate", "--predictions", pred_dir, "--data", dataset, "--workers", 1, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    out = Path(summary["path"])
    assert out == tmp_path / "perfect-eval-test"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["absent_classes"] == ["tree"]
    assert metrics["classes"][2]["iou"] is None and metrics["classes"][2]["present"] is False
    assert summary["miou"] == pytest.approx(1.0)  # the mean ignores the absent class
    assert metrics["failures"] == [] and "absent" in result.stderr


def test_failure_gallery_lists_worst_images_first(cli, dataset, masks, tmp_path):
    preds = {n: np.where(m == 255, 0, m).astype(np.uint8) for n, m in masks.items()}
    preds["c.png"] = 1 - preds["c.png"]  # every pixel wrong: IoU 0
    preds["a.png"][:3] = 1 - preds["a.png"][:3]  # half wrong
    pred_dir = write_predictions(tmp_path / "p", preds)
    out = tmp_path / "eval"
    result = cli("evaluate", "--predictions", pred_dir, "--data", dataset, "--out", out,
                 "--workers", 1, "--max-failures", 5)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    failures = json.loads((out / "metrics.json").read_text())["failures"]
    assert [f["name"] for f in failures] == ["c.png", "a.png"]
    assert failures[0]["iou"] == 0.0 and failures[1]["iou"] <= 0.5
    assert (out / failures[0]["file"]).stat().st_size > 1000


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "1 of 4 predicted masks of split 'test' are missing"),
        ("size", "is 4x6 but the label mask"),
        ("value", "contains class id 7"),
        ("rgb", "is a RGB image, not a single-channel"),
        ("ignore", "leaves 1 pixels at the ignore index 255"),
    ],
)
def test_bad_predictions(cli, dataset, predictions, case, message, tmp_path):
    pred_dir, preds = predictions
    target = pred_dir / "b.png"
    if case == "missing":
        target.unlink()
    elif case == "size":
        Image.fromarray(np.zeros((6, 4), np.uint8), mode="L").save(target)
    elif case in ("value", "ignore"):
        bad = preds["b.png"].copy()
        bad[0, 0] = 7 if case == "value" else 255
        Image.fromarray(bad, mode="L").save(target)
    else:
        Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(target)
    result = cli("evaluate", "--predictions", pred_dir, "--data", dataset, "--out",
                 tmp_path / "e", "--workers", 1)  # fmt: skip
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "e").exists()


def test_bad_dataset_inputs(cli, tmp_path, masks, predictions):
    pred_dir, _ = predictions
    empty = write_dataset(tmp_path / "empty", masks)
    (empty / "splits" / "test.txt").write_text("\n")
    result = cli("evaluate", "--predictions", pred_dir, "--data", empty)
    assert result.exit_code == 1 and "split 'test'" in result.stderr and "empty" in result.stderr

    data = write_dataset(tmp_path / "data2", masks)
    (data / "masks" / "d.png").unlink()
    result = cli("evaluate", "--predictions", pred_dir, "--data", data)
    assert result.exit_code == 1 and "label masks of split 'test' are missing" in result.stderr
    assert "d.png" in result.stderr

    result = cli("evaluate", "--predictions", pred_dir, "--data", tmp_path / "nowhere")
    assert result.exit_code == 1 and "does not exist" in result.stderr

    result = cli("evaluate", "--predictions", pred_dir, "--data", data, "--split", "val")
    assert result.exit_code == 1 and "split 'val' not found" in result.stderr


def test_usage_errors_exit_2(cli, dataset, predictions):
    pred_dir, _ = predictions
    assert cli("evaluate", "--predictions", pred_dir).exit_code == 2  # no --data
    assert cli("evaluate", "--merge", "x").exit_code == 2
    assert cli("evaluate").exit_code == 2
