"""`train` killed at its file operations. A new run is built in staging and becomes the run dir
with its first checkpoint, so an `--overwrite`'d run survives until then; after that the run
dir is written in place, epoch by epoch, and is always complete enough to `--resume`."""

from __future__ import annotations

import os
from pathlib import Path

import complete
import pytest
from faults import sweep

import cvtool
from cvtool.engine.checkpoint import load_checkpoint

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    pytest.mark.usefixtures("one_thread", "quick_figures"),
]
EPOCHS = 2


def _train(data: Path, out: Path, **options: object) -> None:
    common = {"batch_size": 4, "device": "cpu", "workers": 0, "threads": 1, "size": "16x16"}
    cvtool.train("convnet", data, out, **{"epochs": EPOCHS, **common, **options})


def test_train_overwrite_and_resume(tmp_path: Path, cls_data: Path) -> None:
    out = tmp_path / "runs" / "convnet"
    _train(cls_data, out, epochs=1, seed=1)

    def rerun(held: str) -> None:
        if held == "new" and complete.run_dir(out) < EPOCHS:
            _train(cls_data, out, resume=True)  # continues from the last checkpoint
        else:
            _train(cls_data, out, overwrite=True)

    outcome = sweep(
        "train",
        {out: complete.run_dir},
        lambda: _train(cls_data, out, overwrite=True),
        tmp_path,
        rerun=rerun,
        refuse=load_checkpoint,
    )
    assert complete.run_dir(out) == EPOCHS
    assert any(".partial-" in name for name in outcome.debris)
