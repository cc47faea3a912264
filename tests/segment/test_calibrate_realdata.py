"""Real data: a U-Net trained briefly on CamVid (at 96x128; about 30 s on 2 CPU cores),
calibrated on a tenth of the val pixels, evaluated on test at full resolution."""

from __future__ import annotations

import pytest

import cvtool

pytestmark = [pytest.mark.realdata, pytest.mark.slow]
EVAL = {"split": "test", "device": "cpu", "workers": 2, "max_failures": 0}


def test_camvid_unet_calibrated_on_val_is_better_on_test(shared_data, tmp_path) -> None:
    data = cvtool.prepare_camvid(shared_data / "camvid", tmp_path / "camvid", workers=2).path
    options = {"width": 8, "upsample": "bilinear", "epochs": 4, "batch_size": 8, "lr": 0.003}
    run = cvtool.train(
        "unet", data, tmp_path / "unet", size="96x128", device="cpu", workers=0, **options
    ).path
    fitted = cvtool.calibrate(run, split="val", subsample=0.1, device="cpu", workers=2)
    assert fitted.after["nll"] < fitted.before["nll"]
    raw = cvtool.evaluate(run, calibration=False, **EVAL)
    calibrated = cvtool.evaluate(run, **EVAL)
    for key in ("miou", "pixel_accuracy", "mean_class_accuracy"):
        assert calibrated.headline[key] == raw.headline[key]
    assert calibrated.headline["ece"] < raw.headline["ece"]
    assert calibrated.headline["nll"] <= raw.headline["nll"]
