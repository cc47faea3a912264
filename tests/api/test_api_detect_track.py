"""detect, evaluate_detections, track and evaluate_tracking from Python on synthetic data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cvtool
from cvtool.synthetic.tracks import SyntheticConfig, write_sequence


def ground_truth_as_predictions(annotations: Path, out: Path) -> Path:
    """Every non-crowd box of the annotation file, scored 0.9: a perfect detector."""
    coco = json.loads(annotations.read_text())
    predictions = [
        {"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"],
         "score": 0.9}
        for a in coco["annotations"]
        if not a.get("iscrowd")
    ]  # fmt: skip
    out.write_text(json.dumps(predictions))
    return out


def test_evaluate_detections_of_a_results_file(capfd, tmp_path, shapes_coco) -> None:
    annotations, _ = shapes_coco
    predictions = ground_truth_as_predictions(annotations, tmp_path / "preds.json")
    result = cvtool.evaluate_detections(str(predictions), annotations, plots=False)
    assert result.path == tmp_path / "preds_eval"
    assert (result.path / "coco_eval.json").is_file()
    assert result.headline["AP"] == pytest.approx(1.0)
    assert result.headline["AP50"] == pytest.approx(1.0)
    assert capfd.readouterr() == ("", "")


def test_evaluate_detections_needs_annotations(tmp_path, shapes_coco) -> None:
    predictions = ground_truth_as_predictions(shapes_coco[0], tmp_path / "preds.json")
    with pytest.raises(cvtool.CvtoolError) as error:
        cvtool.evaluate_detections(predictions)
    assert error.value.param == "annotations" and "--" not in str(error.value)


def test_detect_writes_predictions(capfd, tmp_path, shapes_coco) -> None:
    """Random YOLO weights from a model yaml: the plumbing, not the accuracy."""
    _, images = shapes_coco
    run = cvtool.detect_objects("yolov8n.yaml", images, out=tmp_path / "det", size=64, device="cpu")
    assert run.path == tmp_path / "det" and run.predictions.is_file()
    assert run.images == 8 and run.detections == len(json.loads(run.predictions.read_text()))
    assert capfd.readouterr() == ("", "")


@pytest.fixture
def mot_root(tmp_path: Path) -> Path:
    root = tmp_path / "mot"
    write_sequence(root, SyntheticConfig(frames=30, objects=4, width=320, height=240, seed=1))
    return root


def test_track_then_evaluate(capfd, tmp_path, mot_root) -> None:
    out = tmp_path / "runs"
    iou = cvtool.track_objects(str(mot_root), out, "iou", min_iou=0.4, max_lost=3)
    assert iou.path == out / "iou" and iou.tracker == "iou"
    assert iou.sequences["SYN-01"]["frames"] == 30
    config = json.loads((out / "iou" / "run.json").read_text())["config"]
    assert (config["min_iou"], config["max_lost"]) == (0.4, 3)
    cvtool.track_objects(mot_root, out, seqs="SYN-01")
    scores = cvtool.evaluate_tracking(out, mot_root, cross_check=False, plots=False)
    assert scores.path == out and scores.sequences == ["SYN-01"]
    assert set(scores.combined) == {"iou", "bytetrack"}
    assert 0 < scores.combined["bytetrack"]["HOTA"] <= 100
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"tracker": "sort"}, "tracker"),
        ({"tracker": "iou", "track_buffer": 30}, "track_buffer"),
        ({"detections": "dets", "weights": "yolov8n.pt"}, "weights"),
    ],
)
def test_track_bad_parameter(tmp_path, mot_root, kwargs, param) -> None:
    with pytest.raises(cvtool.ParameterError) as error:
        cvtool.track_objects(mot_root, tmp_path / "runs", **kwargs)
    assert error.value.param == param
    assert param in error.value.message and "--" not in str(error.value)
