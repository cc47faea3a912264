"""Real CamVid (../shared/data/camvid): a tiny U-Net trained for one epoch; `predict` on the
test images reproduces `evaluate --save-masks`, and its ONNX export gives the same masks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import cvtool
from tests.predict.conftest import link_split_images

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def _masks(folder: Path) -> dict[str, np.ndarray]:
    return {p.name: np.asarray(Image.open(p)) for p in sorted(folder.glob("*.png"))}


def test_camvid_predict_matches_evaluate_and_onnx(shared_data: Path, tmp_path: Path) -> None:
    data = cvtool.prepare_camvid(shared_data / "camvid", tmp_path / "camvid", workers=2).path
    run = cvtool.train("unet", data, tmp_path / "unet", width=4, upsample="bilinear", epochs=1,
                       batch_size=8, size="64x80", device="cpu", workers=0)  # fmt: skip
    evaluated = cvtool.evaluate(run.path, split="test", out=tmp_path / "eval", save_masks=True,
                                device="cpu", workers=2)  # fmt: skip
    source = tmp_path / "test_images"
    names = link_split_images(data, "test", source)
    predicted = cvtool.predict(run.path, source, tmp_path / "pred", device="cpu", workers=2)
    expected, got = _masks(evaluated.path / "masks"), _masks(predicted.path / "masks")
    assert len(got) == len(names) == 25 and got.keys() == expected.keys()
    for name in names:
        stem = f"{Path(name).stem}.png"
        assert got[stem].shape == (360, 480)
        assert np.array_equal(got[stem], expected[stem]), stem

    exported = cvtool.export(run.path, "onnx", tmp_path / "unet.onnx")
    assert exported.max_abs_diff < 1e-4
    onnx_dir = cvtool.predict(exported.path, source, tmp_path / "onnx", workers=2).path
    onnx = _masks(onnx_dir / "masks")
    agreement = np.mean([np.mean(onnx[k] == got[k]) for k in got])
    assert agreement >= 0.999
    manifest = json.loads((tmp_path / "onnx" / "predict.json").read_text())
    assert manifest["model"]["kind"] == "onnx" and manifest["images"] == 25
