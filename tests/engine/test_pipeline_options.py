"""Training and evaluation options of the data pipeline: cache, threads, augment device."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from cvtool.core.errors import ParameterError
from cvtool.engine.config import TrainConfig
from cvtool.engine.trainer import train


def _config(data: Path, out: Path, **kw) -> TrainConfig:
    base = dict(model_kwargs={"width": 4}, epochs=2, batch_size=4, size=(24, 28), workers=0)
    return TrainConfig("unet", data, out, **{**base, "augment": "standard", **kw})


def _rows(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "time_s"} for row in history]


def test_a_cached_run_equals_an_uncached_one(seg_data: Path, tmp_path: Path) -> None:
    plain = train(_config(seg_data, tmp_path / "plain"))
    cached = train(_config(seg_data, tmp_path / "ram", cache="ram"))
    assert _rows(cached.history) == _rows(plain.history)
    run = json.loads((tmp_path / "ram" / "run.json").read_text())
    assert run["options"]["cache"] == "ram" and run["options"]["augment_device"] == "cpu"


def test_loader_workers_with_a_shared_cache(seg_data: Path, tmp_path: Path) -> None:
    result = train(_config(seg_data, tmp_path / "run", epochs=1, workers=2, cache="disk"))
    assert torch.isfinite(torch.tensor(result.history[0]["train_loss"]))
    assert (seg_data / ".cache" / "train.u8").is_file() and (
        seg_data / ".cache" / "val.u8"
    ).is_file()


def test_bad_pipeline_options(seg_data: Path, tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="cache must be one of none, ram, disk, got 'gpu'"):
        train(_config(seg_data, tmp_path / "a", cache="gpu"))
    with pytest.raises(ParameterError, match="augment_device cuda augments on the training device"):
        train(_config(seg_data, tmp_path / "b", augment_device="cuda", device="cpu"))
    with pytest.raises(ParameterError, match="threads must be a positive integer"):
        train(_config(seg_data, tmp_path / "c", threads=0))


def test_cli_options(cli, seg_data: Path, tmp_path: Path) -> None:
    before = torch.get_num_threads()
    try:
        args = ("train", "unet", "--data", seg_data, "--width", "4", "--size", "24x28")
        out = tmp_path / "run"
        result = cli(*args, "--out", out, "--epochs", "1", "--threads", "1", "--cache", "ram")
        assert result.exit_code == 0, result.stderr
        assert torch.get_num_threads() == 1
        options = json.loads((out / "run.json").read_text())["options"]
        assert options["threads"] == 1 and options["cache"] == "ram"
        result = cli(*args, "--out", tmp_path / "x", "--cache", "gpu")
        assert result.exit_code == 2 and "--cache" in result.stderr
        result = cli(*args, "--out", tmp_path / "y", "--augment-device", "cuda", "--device", "cpu")
        assert result.exit_code == 2
        assert "--augment-device cuda augments on the training device" in result.stderr
        result = cli("evaluate", out, "--cache", "gpu")
        assert result.exit_code == 2
        assert "--cache must be one of none, ram, disk, got 'gpu'" in result.stderr
        result = cli("evaluate", out, "--split", "val", "--cache", "disk", "--threads", "1")
        assert result.exit_code == 0, result.stderr
        assert (seg_data / ".cache" / "val.u8").is_file()
        plain = cli("evaluate", out, "--split", "val", "--threads", "1", "--out", tmp_path / "p")
        cached = json.loads((out / "eval-val" / "metrics.json").read_text())["headline"]
        assert json.loads((tmp_path / "p" / "metrics.json").read_text())["headline"] == cached
        assert plain.exit_code == 0
    finally:
        torch.set_num_threads(before)
