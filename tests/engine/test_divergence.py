"""A diverging run stops: exit 1 naming the epoch, nothing non-finite saved, and the run dir
keeps its good epochs (or, when it was to replace a run, that run)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cvtool.engine import loop
from cvtool.engine.checkpoint import load_checkpoint

TINY = ["--width", "4", "--size", "24", "--crop", "24", "--batch-size", "4", "--workers", "0"]
TINY += ["--device", "cpu"]


def _poison(monkeypatch: pytest.MonkeyPatch, after_step: int, name: str) -> None:
    """Fill the first floating-point weight whose name contains `name` with NaN right after
    optimizer step `after_step` (counted from 1 over the process); seg_data's 8 training
    images in batches of 4 make 2 steps an epoch."""
    step, count = loop._step, [0]

    def step_then_poison(run, loss) -> None:
        step(run, loss)
        count[0] += 1
        if count[0] == after_step:
            state = run.model.state_dict()
            key = next(k for k, v in state.items() if name in k and v.is_floating_point())
            state[key].fill_(float("nan"))

    monkeypatch.setattr(loop, "_step", step_then_poison)


def _history(run: Path) -> list[dict[str, str]]:
    with (run / "history.csv").open() as f:
        return list(csv.DictReader(f))


def _run_json(run: Path) -> dict:
    return json.loads((run / "run.json").read_text())


def test_nan_batchnorm_statistics_stop_the_run_at_that_epoch(
    cli, monkeypatch, seg_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    _poison(monkeypatch, after_step=4, name="running_var")  # the last step of epoch 2
    result = cli("train", "unet", "--data", seg_data, "--out", out, "--epochs", 3, *TINY)
    assert result.exit_code == 1, result.stderr
    assert "training diverged in epoch 2: val_loss nan" in result.stderr
    assert "running_var" in result.stderr and "--lr" in result.stderr
    assert "keeps epoch 1 (checkpoints/last.pt is epoch 1, best.pt is epoch 1)" in result.stderr
    assert "Traceback" not in result.stderr
    assert [r["epoch"] for r in _history(out)] == ["1"]
    run = _run_json(out)
    assert run["epochs_completed"] == 1 and run["best"]["epoch"] == 1
    assert run["diverged"]["epoch"] == 2 and "val_loss nan" in run["diverged"]["found"]
    for name in ("last.pt", "best.pt"):
        assert load_checkpoint(out / "checkpoints" / name).epoch == 1  # finite weights
    # the last good checkpoint continues the run
    result = cli("train", "unet", "--resume", "--out", out, "--epochs", 3)
    assert result.exit_code == 0, result.stderr
    assert [r["epoch"] for r in _history(out)] == ["1", "2", "3"]
    assert _run_json(out)["diverged"] is None


def test_divergence_in_the_first_epoch_keeps_the_run_it_was_to_replace(
    cli, monkeypatch, seg_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    result = cli("train", "unet", "--data", seg_data, "--out", out, "--epochs", 1, *TINY)
    assert result.exit_code == 0, result.stderr
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    _poison(monkeypatch, after_step=1, name="weight")  # the second step's loss is NaN
    args = ("--epochs", 2, "--seed", 5, "--overwrite")
    result = cli("train", "unet", "--data", seg_data, "--out", out, *args, *TINY)
    assert result.exit_code == 1, result.stderr
    assert "training diverged in epoch 1: train_loss nan" in result.stderr
    assert "val_loss" not in result.stderr  # validation is skipped
    assert f"the run it was to replace, {out}, is unchanged" in result.stderr
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging


def test_a_huge_learning_rate_diverges_a_classifier(cli, cls_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["--data", cls_data, "--out", out, "--epochs", "2", "--size", "32x32", "--lr", "1e6"]
    args += ["--optimizer", "sgd", "--batch-size", "4", "--workers", "0", "--device", "cpu"]
    result = cli("train", "convnet", *args)
    assert result.exit_code == 1, result.stderr
    assert "training diverged in epoch 1: val_loss nan" in result.stderr
    assert "(--lr, was 1e+06)" in result.stderr
    assert f"no epoch was saved, so no run dir was written at {out}" in result.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging


def test_nan_weights_refused_for_resume(seg_data: Path, tmp_path: Path, cli) -> None:
    out = tmp_path / "run"
    result = cli("train", "unet", "--data", seg_data, "--out", out, "--epochs", 1, *TINY)
    assert result.exit_code == 0, result.stderr
    last = out / "checkpoints" / "last.pt"
    raw = torch.load(last, weights_only=True)
    next(v for v in raw["model"].values() if v.is_floating_point()).fill_(float("inf"))
    torch.save(raw, last)
    result = cli("train", "unet", "--resume", "--out", out, "--epochs", 2)
    assert result.exit_code == 1
    assert f"checkpoint {last}: weights contain NaN/Inf" in result.stderr
    assert "diverged at epoch 1 or before" in result.stderr


@pytest.mark.slow
def test_ddp_ranks_stop_together(seg_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
        "--master_port", str(29600 + os.getpid() % 1000),
        "-m", "cvtool", "train", "unet", "--data", str(seg_data), "--out", str(out),
        "--epochs", "2", "--lr", "1e6", "--optimizer", "sgd", *TINY,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode != 0
    assert "training diverged in epoch 1" in proc.stderr, proc.stderr[-3000:]
    assert "rank 1 stopped: rank 0 found that training diverged in epoch 1" in proc.stderr
    assert not out.exists()  # no epoch was saved
