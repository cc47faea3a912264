"""Every command that loads a checkpoint refuses one whose weights hold NaN or Inf, naming the
file and the epoch, and writes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="module")
def diverged_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A one-epoch U-Net run whose checkpoints then had a weight set to NaN, and its data."""
    import cvtool
    from cvtool.synthetic.datasets import random_segmentation_dataset

    tmp = tmp_path_factory.mktemp("diverged")
    data = random_segmentation_dataset(tmp / "data")
    options = {"width": 4, "size": "24x24", "batch_size": 4, "workers": 0, "device": "cpu"}
    run = cvtool.train("unet", data, tmp / "run", epochs=1, **options).path
    for name in ("best.pt", "last.pt"):
        path = run / "checkpoints" / name
        raw = torch.load(path, weights_only=True)
        raw["model"]["head.weight"][0, 0] = float("nan")
        torch.save(raw, path)
    return run, data


@pytest.mark.parametrize(
    "command",
    [
        ["evaluate", "{run}", "--split", "test", "--workers", "1"],
        ["calibrate", "{run}", "--workers", "1", "--device", "cpu"],
        ["predict", "{run}", "{data}/images", "--out", "{tmp}/pred"],
        ["export", "{run}", "--format", "torchscript", "--out", "{tmp}/model.torchscript"],
    ],
    ids=lambda c: c[0],
)
def test_commands_refuse_nan_weights(cli, diverged_run, tmp_path: Path, command) -> None:
    run, data = diverged_run
    args = [a.format(run=run, data=data, tmp=tmp_path) for a in command]
    result = cli(*args)
    assert result.exit_code == 1, result.stderr
    best = run / "checkpoints" / "best.pt"
    assert f"checkpoint {best}: weights contain NaN/Inf in 1 of" in result.stderr
    assert "(head.weight)" in result.stderr and "diverged at epoch 1 or before" in result.stderr
    assert list(tmp_path.iterdir()) == []
    assert not (run / "eval-test").exists()


def test_a_checkpoint_file_is_refused_too(cli, diverged_run, tmp_path: Path) -> None:
    run, _ = diverged_run
    last = tmp_path / "copy.pt"
    shutil.copyfile(run / "checkpoints" / "last.pt", last)
    result = cli("evaluate", last, "--split", "test", "--workers", "1")
    assert result.exit_code == 1 and f"checkpoint {last}: weights contain" in result.stderr
