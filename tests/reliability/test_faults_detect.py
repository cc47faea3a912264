"""`detect run`, `detect eval` and `detect calibrate` (fit and apply) killed at their file
operations. `detect run` uses a random-weight YOLOv8n built from its yaml: offline."""

from __future__ import annotations

import json
import os
from pathlib import Path

import complete
import pytest
from corpus import write_json
from faults import sweep

import cvtool
from tests.detect.detect_fixtures import TINY_PREDICTIONS, tiny_dataset
from tests.formats.prepare_helpers import write_image

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    pytest.mark.usefixtures("one_thread", "quick_figures"),
]


@pytest.fixture
def gt(tmp_path: Path) -> Path:
    return write_json(tmp_path / "gt" / "instances.json", tiny_dataset())


@pytest.mark.usefixtures("yolo_once")
def test_detect_run(tmp_path: Path) -> None:
    images = tmp_path / "images"
    for i in range(2):
        write_image(images / f"{i}.png", 48, 64, seed=i)
    out = tmp_path / "runs" / "yolo"

    def detect(conf: float, **options: object) -> None:
        cvtool.detect_objects("yolov8n.yaml", images, out=out, size=64, conf=conf, **options)

    def detected(path: Path) -> None:
        run = complete.json_file(path / "run.json")
        assert len(complete.json_file(path / "predictions.json")) == run["num_predictions"]

    def refuse(staging: Path) -> None:
        cvtool.evaluate_detections(staging, tmp_path / "gt.json", tmp_path / "e")

    detect(0.5)
    write = lambda: detect(0.001, overwrite=True)  # noqa: E731
    sweep("detect run", {out: detected}, write, tmp_path, refuse=refuse)


def _detect_run_dir(root: Path, gt: Path, predictions: list[dict]) -> Path:
    write_json(root / "predictions.json", predictions)
    write_json(root / "run.json", {"weights": "w.pt", "annotations": str(gt)})
    return root


def test_detect_eval_in_its_run_dir(tmp_path: Path, gt: Path) -> None:
    run = _detect_run_dir(tmp_path / "runs" / "det", gt, TINY_PREDICTIONS)
    before = {name: (run / name).read_bytes() for name in ("predictions.json", "run.json")}

    def evaluated(path: Path) -> None:
        assert {name: (path / name).read_bytes() for name in before} == before
        assert complete.json_file(path / "coco_eval.json")["stats"]
        for name in ("tide.json", "calibration.json", "report.md"):
            assert (path / name).is_file()

    def refuse(staging: Path) -> None:
        cvtool.compare([staging], tmp_path / "c")

    cvtool.evaluate_detections(run, plots=False)
    write = lambda: cvtool.evaluate_detections(run, overwrite=True)  # noqa: E731
    sweep("detect eval", {run: evaluated}, write, tmp_path, refuse=refuse)


def test_detect_calibrate_fit(tmp_path: Path, gt: Path) -> None:
    predictions = write_json(tmp_path / "predictions.json", TINY_PREDICTIONS)
    out = tmp_path / "calibrations" / "cal"

    def fit(method: str, **options: object) -> None:
        cvtool.calibrate_detections(predictions, gt, out, method=method, **options)

    def fitted(path: Path) -> None:
        assert complete.json_file(path / "score_calibration.json")["method"] == "isotonic"
        assert (path / "plots" / "reliability_all.png").is_file()

    def refuse(staging: Path) -> None:
        cvtool.apply_detection_calibration(predictions, staging, tmp_path / "x.json")

    fit("platt")
    write = lambda: fit("isotonic", overwrite=True)  # noqa: E731
    sweep("detect calibrate", {out: fitted}, write, tmp_path, refuse=refuse)


def test_detect_calibrate_apply(tmp_path: Path, gt: Path) -> None:
    predictions = write_json(tmp_path / "predictions.json", TINY_PREDICTIONS)
    calibrations = [tmp_path / "platt", tmp_path / "isotonic"]
    for cal in calibrations:
        cvtool.calibrate_detections(predictions, gt, cal, method=cal.name)
    out = tmp_path / "calibrated" / "predictions.json"

    def applied(path: Path) -> None:
        rows = json.loads(path.read_text())
        assert [r["score_raw"] for r in rows] == [p["score"] for p in TINY_PREDICTIONS]

    cvtool.apply_detection_calibration(predictions, calibrations[0], out)
    write = lambda: cvtool.apply_detection_calibration(  # noqa: E731
        predictions, calibrations[1], out, overwrite=True
    )
    sweep("detect calibrate --apply", {out: applied}, write, tmp_path)
