"""Real CamVid (../shared/data/camvid) and the shared briefly trained U-Net: `predict` on the
test images reproduces `evaluate --save-masks`, and its ONNX export gives the same masks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import cvtool

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def _masks(folder: Path) -> dict[str, np.ndarray]:
    return {p.name: np.asarray(Image.open(p)) for p in sorted(folder.glob("*.png"))}


def test_camvid_predict_matches_evaluate_and_onnx(
    camvid_data: Path, camvid_unet: Path, tmp_path: Path
) -> None:
    evaluated = cvtool.evaluate(camvid_unet, split="test", out=tmp_path / "eval", shard="0/3",
                                save_masks=True, device="cpu", workers=2)  # fmt: skip
    expected = _masks(evaluated.path / "masks")
    source = tmp_path / "test_images"
    source.mkdir()
    for name in (camvid_data / "splits" / "test.txt").read_text().split():
        if f"{Path(name).stem}.png" in expected:  # the shard's images
            (source / name).symlink_to(camvid_data / "images" / name)
    predicted = cvtool.predict(camvid_unet, source, tmp_path / "pred", device="cpu", workers=2)
    got = _masks(predicted.path / "masks")
    assert len(got) == 9 and got.keys() == expected.keys()
    for stem, mask in got.items():
        assert mask.shape == (360, 480)
        assert np.array_equal(mask, expected[stem]), stem

    exported = cvtool.export(camvid_unet, "onnx", tmp_path / "unet.onnx")
    assert exported.max_abs_diff < 1e-4
    onnx_dir = cvtool.predict(exported.path, source, tmp_path / "onnx", workers=2).path
    onnx = _masks(onnx_dir / "masks")
    agreement = np.mean([np.mean(onnx[k] == got[k]) for k in got])
    assert agreement >= 0.999
    manifest = json.loads((tmp_path / "onnx" / "predict.json").read_text())
    assert manifest["model"]["kind"] == "onnx" and manifest["images"] == 9
