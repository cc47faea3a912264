"""Real data: a convnet trained briefly on Imagenette, calibrated on val, evaluated on test."""

from __future__ import annotations

import pytest

import cvtool

pytestmark = [pytest.mark.realdata, pytest.mark.slow]
EVAL = {"split": "test", "device": "cpu", "workers": 2, "max_failures": 0, "tsne_max": 0}


def test_imagenette_convnet_calibrated_on_val_is_better_on_test(shared_data, tmp_path) -> None:
    root = shared_data / "imagenette"
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    data = cvtool.prepare_folder(root, tmp_path / "data", val=0.2, test=0.2, workers=2).path
    run = cvtool.train(
        "convnet",
        data,
        tmp_path / "convnet",
        epochs=6,
        size="32x32",
        batch_size=32,
        device="cpu",
        workers=0,
    ).path
    fitted = cvtool.calibrate(run, split="val", device="cpu", workers=2)
    assert fitted.after["nll"] < fitted.before["nll"]
    raw = cvtool.evaluate(run, calibration=False, **EVAL)
    calibrated = cvtool.evaluate(run, **EVAL)
    for key in ("accuracy", "macro_f1"):
        assert calibrated.headline[key] == raw.headline[key]
    assert calibrated.headline["ece"] < raw.headline["ece"]
    assert calibrated.headline["nll"] <= raw.headline["nll"]
