"""`cvtool.calibrate` on a classifier run: temperature scaling keeps every prediction, the run
stays a replay config, and evaluation reports the raw and calibrated calibration."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import cvtool
from cvtool.engine.options import load_config

EVAL = {"split": "test", "device": "cpu", "workers": 1, "tsne_max": 0, "max_failures": 0}


def _predicted(eval_dir: Path) -> list[str]:
    with (eval_dir / "predictions.csv").open() as f:
        return [row["predicted"] for row in csv.DictReader(f)]


def test_temperature_keeps_predictions_of_a_classifier(trained_convnet: Path, tmp_path) -> None:
    fitted = cvtool.calibrate(trained_convnet, device="cpu", workers=1)
    assert fitted.task == "classification" and fitted.samples == 8  # the val images
    assert fitted.after["nll"] <= fitted.before["nll"]
    assert fitted.after["accuracy"] == fitted.before["accuracy"]
    config = load_config(trained_convnet / "run.json", out=tmp_path / "replay")
    assert config.model == "convnet" and config.epochs == 1  # run.json still replays the run

    raw = cvtool.evaluate(trained_convnet, out=tmp_path / "raw", calibration=False, **EVAL)
    calibrated = cvtool.evaluate(trained_convnet, out=tmp_path / "cal", **EVAL)
    for key in ("accuracy", "macro_f1", "macro_precision", "macro_recall"):
        assert calibrated.headline[key] == raw.headline[key]
    assert _predicted(tmp_path / "cal") == _predicted(tmp_path / "raw")
    section = calibrated.metrics["calibration"]
    assert section["applied"]["method"] == "temperature"
    assert section["raw"]["ece"] == pytest.approx(raw.headline["ece"], abs=1e-12)
    saved = json.loads((tmp_path / "cal" / "calibration.json").read_text())
    assert saved["raw"]["nll"] == pytest.approx(raw.headline["nll"], abs=1e-12)


def test_vector_scaling_and_a_subsample_for_a_classifier(trained_convnet: Path) -> None:
    fitted = cvtool.calibrate(trained_convnet, method="vector", device="cpu", workers=1)
    assert len(fitted.parameters["scale"]) == 4 and len(fitted.parameters["bias"]) == 4
    with pytest.raises(cvtool.ParameterError, match="subsample is for segmentation") as err:
        cvtool.calibrate(trained_convnet, subsample=0.5, device="cpu", workers=1)
    assert err.value.param == "subsample"
