"""One option vocabulary across commands, default output dirs, and device translation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# Former names, each replaced by one shared option (docs/changelog.md).
RETIRED = {
    "--to",
    "--imgsz",
    "--batch",
    "--detector-weights",
    "--no-overwrite",
    "--yolo-conf",
    "--min-conf",
}
GROUPS = ("prepare", "train", "evaluate", "compare", "detect", "track", "download", "demo")


def _commands(command, path=()):
    """Every leaf command under `command`, with its path of names."""
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        yield path, command
        return
    for name, sub in subcommands.items():
        yield from _commands(sub, (*path, name))


@pytest.mark.parametrize("group", GROUPS)
def test_no_retired_option_names(group: str) -> None:
    import typer

    from cvtool.cli.main import app

    root = typer.main.get_command(app)
    found = {
        (path, opt)
        for path, command in _commands(root.commands[group], (group,))
        for param in command.params
        for opt in (*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ()))
        if opt in RETIRED
    }
    assert found == set()


def test_detect_run_takes_the_shared_vocabulary(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--size HxW`, `--batch-size` and `--device` reach the YOLO options; without `--out` the
    run goes to runs/detect/<weights stem>, numbered."""
    from cvtool.detect import yolo

    calls = []

    def fake_run(weights, images, out, annotations, opts, category_map, overwrite):
        calls.append((out, opts))
        out.mkdir(parents=True)
        return {"num_images": 0, "num_predictions": 0, "images_per_second": None}

    monkeypatch.setattr(yolo, "run_yolo", fake_run)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "images").mkdir()
    args = ("detect", "run", "--weights", "models/yolov8n.pt", "--images", tmp_path / "images")
    result = cli(*args, "--size", "480x640", "--batch-size", 4, "--device", "cpu")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(Path("runs/detect/yolov8n/predictions.json"))
    opts = calls[0][1]
    assert (opts.imgsz, opts.batch, opts.device) == ((480, 640), 4, "cpu")
    assert cli(*args).exit_code == 0
    assert calls[1][0] == Path("runs/detect/yolov8n2") and calls[1][1].imgsz == 640


def test_unavailable_device_is_a_usage_error(cli, tmp_path: Path) -> None:
    import torch

    if torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    result = cli("detect", "run", "--weights", "w.pt", "--images", tmp_path, "--device", "mps")
    assert result.exit_code == 2
    assert "error: --device 'mps' is not available here; available: cpu" in result.stderr
    assert "unexpected" not in result.stderr


def test_prepare_without_out_numbers_runs_prepare_kind(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    for cls in ("cat", "dog"):
        (tmp_path / "raw" / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (4, 4), (i, 0, 0)).save(tmp_path / "raw" / cls / f"{i}.png")
    monkeypatch.chdir(tmp_path)
    args = ("prepare", "folder", "--root", "raw", "--workers", 1, "--json")
    first, second = cli(*args), cli(*args)
    assert first.exit_code == 0 and second.exit_code == 0, first.stderr + second.stderr
    assert json.loads(first.stdout)["path"] == str(Path("runs/prepare/folder"))
    assert json.loads(second.stdout)["path"] == str(Path("runs/prepare/folder2"))
    assert (tmp_path / "runs" / "prepare" / "folder2" / "dataset.json").is_file()


def test_overwrite_is_a_plain_flag(cli) -> None:
    result = cli("prepare", "camvid", "--root", "x", "--no-overwrite")
    assert result.exit_code == 2 and "No such option" in result.stderr
