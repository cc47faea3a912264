"""Real data: the shared briefly trained CamVid U-Net, calibrated on a tenth of the val pixels,
evaluated on test at full resolution with the raw and calibrated numbers side by side."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import cvtool

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def test_camvid_unet_calibrated_on_val_is_better_on_test(camvid_unet: Path, tmp_path) -> None:
    run = shutil.copytree(camvid_unet, tmp_path / "unet")
    fitted = cvtool.calibrate(run, split="val", subsample=0.1, device="cpu", workers=2)
    assert fitted.after["nll"] < fitted.before["nll"]
    evaluated = cvtool.evaluate(run, split="test", device="cpu", workers=2, max_failures=0)
    calibration = evaluated.metrics["calibration"]
    assert calibration["applied"]["method"] == "temperature"
    assert evaluated.headline["ece"] == calibration["ece"] < calibration["raw"]["ece"]
    assert calibration["nll"] <= calibration["raw"]["nll"]
