"""The demo's train leg on the generated shapes dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from cvtool.demo.segment import train_demo_unet
from cvtool.engine.checkpoint import load_checkpoint


@pytest.mark.slow
def test_train_demo_unet_on_prepared_shapes(tmp_path: Path) -> None:
    from cvtool.synthetic.shapes import prepare_demo_dataset

    data, _ = prepare_demo_dataset(tmp_path / "work", num_images=16, size=64, workers=1)
    result = train_demo_unet(data, tmp_path / "run", epochs=2, size=32)
    summary = result.summary()
    assert summary["run_dir"] == str(tmp_path / "run") and summary["epochs"] == 2
    assert summary["best_metric"] == "val_miou" and 0 <= summary["best_value"] <= 1
    ckpt = load_checkpoint(result.run_dir)
    assert ckpt.model_name == "unet" and ckpt.model_kwargs["width"] == 8
    assert [c.name for c in ckpt.classes][1:] == ["circle", "square", "triangle", "star"]
