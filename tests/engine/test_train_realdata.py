"""Training on real CamVid (prepared with `prepare camvid`) at a tiny resolution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cvtool.engine.config import TrainConfig
from cvtool.engine.trainer import train


@pytest.mark.realdata
@pytest.mark.slow
def test_unet_on_camvid_odd_resolution(camvid_data: Path, tmp_path: Path) -> None:
    config = TrainConfig(
        model="unet",
        data=camvid_data,
        out=tmp_path / "run",
        model_kwargs={"width": 4},
        epochs=2,
        batch_size=10,
        lr=0.01,
        size=(45, 60),  # odd sizes all the way down the U-Net
        crop=None,
        workers=0,
    )
    result = train(config)
    first, last = result.history
    assert last["train_loss"] < first["train_loss"]
    assert np.isfinite(last["val_miou"]) and 0 < last["val_miou"] <= 1
    assert (result.run_dir / "checkpoints" / "best.pt").is_file()
