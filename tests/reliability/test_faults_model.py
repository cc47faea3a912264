"""The stages that read a trained model, killed at their file operations: evaluate, calibrate
(its `run.json`), predict and export."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import complete
import pytest
import torch
from faults import sweep

import cvtool
from cvtool.core.errors import CvtoolError
from cvtool.core.locks import OutputLock
from cvtool.engine.manifest import RunManifest

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    pytest.mark.usefixtures("one_thread", "quick_figures"),
]
COMMON = {"device": "cpu", "workers": 1}
FEW = {"max_failures": 2}


@pytest.fixture(scope="module")
def seg_run(tmp_path_factory) -> Path:
    """A tiny U-Net run on the synthetic segmentation set (one thread, see `one_thread`)."""
    from cvtool.synthetic.datasets import random_segmentation_dataset

    tmp = tmp_path_factory.mktemp("model")
    data = random_segmentation_dataset(tmp / "data")
    options = {"epochs": 1, "batch_size": 4, "workers": 0, "threads": 1, "size": "16x24"}
    threads = torch.get_num_threads()
    run = cvtool.train("unet", data, tmp / "unet", device="cpu", width=4, **options).path
    torch.set_num_threads(threads)
    return run


@pytest.fixture
def run(seg_run: Path, tmp_path: Path) -> Path:
    """A copy of the run, for a stage that writes into it."""
    return Path(shutil.copytree(seg_run, tmp_path / "run" / "unet"))


def test_evaluate(tmp_path: Path, seg_run: Path) -> None:
    out = tmp_path / "evals" / "unet"
    cvtool.evaluate(seg_run, split="val", out=out, **COMMON, **FEW)
    write = lambda: cvtool.evaluate(seg_run, out=out, overwrite=True, **COMMON, **FEW)  # noqa: E731
    refuse = lambda staging: cvtool.compare([staging], tmp_path / "c")  # noqa: E731
    sweep("evaluate", {out: complete.eval_dir}, write, tmp_path, refuse=refuse)


def test_calibrate(run: Path, tmp_path: Path) -> None:
    def calibrated(path: Path) -> None:
        assert RunManifest.load(path).calibration["split"] == "val"
        complete.run_dir(path)

    write = lambda: cvtool.calibrate(run, split="val", subsample=0.5, **COMMON)  # noqa: E731
    outcome = sweep("calibrate", {run: calibrated}, write, tmp_path)
    assert any(name.startswith(".run.json.") for name in outcome.debris)
    with OutputLock(run), pytest.raises(CvtoolError, match="being written by") as error:
        write()  # a training run holds this lock
    assert error.value.param == "run"


def _predictions(out: Path) -> None:
    manifest = complete.json_file(out / "predict.json")
    masks = sorted(p.name for p in (out / "masks").iterdir())
    assert len(masks) == manifest["images"] > 0


def test_predict(seg_run: Path, tmp_path: Path) -> None:
    data = Path(RunManifest.load(seg_run).dataset)
    images, out = tmp_path / "images", tmp_path / "predictions"
    images.mkdir()
    for image in sorted((data / "images").iterdir())[:3]:
        shutil.copy(image, images)
    cvtool.predict(seg_run, images, out, **COMMON)

    def write() -> None:
        cvtool.predict(seg_run, images, out, confidence=True, overwrite=True, **COMMON)

    def refuse(staging: Path) -> None:
        cvtool.evaluate_predictions(staging / "masks", data, out=tmp_path / "e")

    sweep("predict", {out: _predictions}, write, tmp_path, refuse=refuse)


@pytest.mark.slow  # every run traces the model
def test_export(seg_run: Path, run: Path, tmp_path: Path) -> None:
    """The old file is the export of another model (the copy's weights changed)."""
    from cvtool.deploy.models import load_model

    out = tmp_path / "exported" / "unet.torchscript"

    def other_model() -> None:
        import torch

        checkpoint = run / "checkpoints" / "best.pt"
        raw = torch.load(checkpoint, weights_only=True)
        raw["model"] = {k: v * 0.9 if v.is_floating_point() else v for k, v in raw["model"].items()}
        torch.save(raw, checkpoint)
        cvtool.export(run, "torchscript", out)

    other_model()
    write = lambda: cvtool.export(seg_run, "torchscript", out, overwrite=True)  # noqa: E731
    sweep("export", {out: lambda path: load_model(path)}, write, tmp_path)
    checkpoint = run / "checkpoints" / "best.pt"
    with pytest.raises(cvtool.ParameterError, match="is the input"):
        cvtool.export(checkpoint, "torchscript", checkpoint, overwrite=True)
