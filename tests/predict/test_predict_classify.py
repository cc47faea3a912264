"""`predict` with a classifier: one CSV row per image with the top-k labels, the same through
ONNX and TorchScript, per-frame rows for a video; detection with a YOLO model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import cvtool


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_folder_of_new_images_gives_one_row_per_image(cli, cls_run, new_images, tmp_path):
    out = tmp_path / "pred"
    result = cli("predict", cls_run, new_images, "--out", out, "--top-k", 2, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["task"] == "classification" and summary["images"] == 4
    rows = _rows(out / "predictions.csv")
    assert [r["file"] for r in rows] == ["img_0.png", "img_1.jpg", "img_2.png", "img_3.jpg"]
    assert list(rows[0]) == ["file", "frame", "label_1", "probability_1", "label_2",
                             "probability_2"]  # fmt: skip
    for row in rows:
        assert row["label_1"] in {"a", "b", "c"} and row["label_1"] != row["label_2"]
        assert 1 >= float(row["probability_1"]) >= float(row["probability_2"]) >= 0
    assert (out / "contact_sheet.png").is_file()


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_exported_classifier_gives_the_same_labels(cls_run, new_images, tmp_path, fmt) -> None:
    exported = cvtool.export(cls_run, fmt, tmp_path / f"convnet.{fmt}")
    assert not exported.dynamic_size and exported.input_size == (32, 32)  # a linear layer
    assert exported.max_abs_diff < 1e-4
    a = cvtool.predict(cls_run, new_images, tmp_path / "torch", contact_sheet=False)
    b = cvtool.predict(exported.path, new_images, tmp_path / "exported", contact_sheet=False)
    rows_a, rows_b = _rows(a.path / "predictions.csv"), _rows(b.path / "predictions.csv")
    assert [r["label_1"] for r in rows_a] == [r["label_1"] for r in rows_b]
    for ra, rb in zip(rows_a, rows_b, strict=True):
        assert float(ra["probability_1"]) == pytest.approx(float(rb["probability_1"]), abs=1e-5)


def test_glob_source_and_video_frames(cls_run, new_images, tmp_path) -> None:
    from fractions import Fraction

    from cvtool.core.video import VideoWriter

    with VideoWriter(new_images / "clip.mp4", Fraction(5)) as writer:
        for value in (0, 120, 240):
            writer.write(np.full((32, 32, 3), value, np.uint8))
    result = cvtool.predict(cls_run, str(new_images / "*"), tmp_path / "pred", top_k=1)
    assert (result.images, result.frames) == (4, 3)
    frames = [r for r in _rows(result.path / "predictions.csv") if r["file"] == "clip.mp4"]
    assert [r["frame"] for r in frames] == ["0", "1", "2"]


@pytest.mark.slow
def test_yolo_model_writes_coco_results_with_file_names(new_images, tmp_path) -> None:
    """A random-weight YOLOv8n (from its yaml, and saved as a .pt): COCO results with file
    names and boxes drawn per image."""
    from cvtool.detect.yolo import load_yolo

    weights = tmp_path / "yolo.pt"
    load_yolo("yolov8n.yaml").save(weights)
    result = cvtool.predict(weights, new_images, tmp_path / "det", size=64, conf=0.00001,
                            max_det=3, device="cpu")  # fmt: skip
    assert result.task == "detection" and result.images == 4
    predictions = json.loads((result.path / "predictions.json").read_text())
    assert predictions and {p["file_name"] for p in predictions} <= {
        p.name for p in new_images.iterdir()
    }
    assert {"image_id", "category_id", "bbox", "score", "category_name"} <= set(predictions[0])
    assert len(list((result.path / "boxes").glob("*.png"))) == 4
