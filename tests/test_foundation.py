"""The shared CLI conventions and the artifact contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from cvtool.cli.common import CommandResult, stage_command
from cvtool.core.artifacts import (
    ClassInfo,
    DatasetManifest,
    atomic_write_json,
    read_json,
    staged_output_dir,
)
from cvtool.core.errors import CvtoolError, ParameterError

REPO_ROOT = Path(__file__).resolve().parents[1]


def _demo_app() -> typer.Typer:
    app = typer.Typer()

    @stage_command(app, "make")
    def make(out: Path = typer.Option(..., help="where"), fail: str = "") -> CommandResult:
        if fail == "data":
            raise CvtoolError(f"broken file {out}", "fix it")
        if fail == "bug":
            raise ZeroDivisionError("oops")
        return CommandResult(out, {"count": 3})

    @stage_command(app, "fit")
    def fit(
        batch_size: int = typer.Option(8, "--batch-size"),
        pretrained: bool = typer.Option(True, "--pretrained/--no-pretrained"),
        overwrite: bool = typer.Option(False, "--overwrite"),
        fail: str = "",
    ) -> CommandResult:
        if fail == "value":
            raise ParameterError("must be even, got 7", "batch_size", "pass `batch_size` 8")
        if fail == "data":
            hint = "pass `overwrite=True`, or `pretrained=False`, or `missing=True` [sic]"
            raise CvtoolError("run dir [/]x is not empty", hint, param="batch_size")
        return CommandResult(None)

    @app.command("other")
    def other() -> None:  # a second command keeps Typer in group mode
        pass

    return app


def test_stage_command_prints_path_last_on_stdout(tmp_path: Path) -> None:
    result = CliRunner().invoke(_demo_app(), ["make", "--out", str(tmp_path)])
    assert result.exit_code == 0
    assert result.stdout.strip().splitlines()[-1] == str(tmp_path)


def test_stage_command_json_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(_demo_app(), ["make", "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"path": str(tmp_path), "count": 3}


def test_data_error_exits_1_with_message_and_no_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(_demo_app(), ["make", "--out", "x.json", "--fail", "data"])
    assert result.exit_code == 1
    assert "broken file x.json" in result.stderr and "fix it" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_unexpected_error_suggests_debug() -> None:
    result = CliRunner().invoke(_demo_app(), ["make", "--out", "x", "--fail", "bug"])
    assert result.exit_code == 1
    assert "ZeroDivisionError" in result.stderr and "--debug" in result.stderr
    debug = CliRunner().invoke(_demo_app(), ["make", "--out", "x", "--fail", "bug", "--debug"])
    assert debug.exit_code == 1 and "Traceback" in debug.stderr


def test_usage_error_exits_2() -> None:
    result = CliRunner().invoke(_demo_app(), ["make"])
    assert result.exit_code == 2


def test_parameter_error_names_the_option_and_exits_2() -> None:
    result = CliRunner().invoke(_demo_app(), ["fit", "--fail", "value"])
    assert result.exit_code == 2
    assert "error: --batch-size: must be even, got 7" in result.stderr
    assert "hint: pass --batch-size 8" in result.stderr


def test_data_error_spells_parameters_as_options_and_exits_1() -> None:
    result = CliRunner().invoke(_demo_app(), ["fit", "--fail", "data"])
    assert result.exit_code == 1
    assert "error: --batch-size: run dir [/]x is not empty" in result.stderr
    # quoted parameters become the command's options; unknown ones stay as written
    assert "hint: pass --overwrite, or --no-pretrained, or `missing=True` [sic]" in result.stderr


def test_error_helper_prints_brackets_literally() -> None:
    from cvtool.core.console import console, error

    with console.capture() as captured:
        error("wandb logging needs the wandb package", "pip install 'cvtool[wandb]'")
    text = captured.get()
    assert "error: wandb logging needs the wandb package" in text
    assert "hint: pip install 'cvtool[wandb]'" in text


def _cvtool_logged(tmp_path: Path, *args: object) -> tuple[subprocess.CompletedProcess, str]:
    """Run `cvtool ARGS` with stderr redirected to a file (not a terminal), as in a CI log."""
    log = tmp_path / "stderr.log"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "COLUMNS": "80"}
    with log.open("w") as stderr:
        done = subprocess.run(
            [sys.executable, "-m", "cvtool", *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env,
            check=False,
        )
    return done, log.read_text()


def test_markup_in_an_error_path_is_printed_literally(tmp_path: Path) -> None:
    missing = tmp_path / "data[/]set[bold]"
    done, log = _cvtool_logged(tmp_path, "prepare", "stats", missing)
    assert done.returncode == 1 and done.stdout == ""
    assert f"error: dataset directory {missing} does not exist" in log
    assert "Traceback" not in log and "MarkupError" not in log


def test_tables_in_logs_keep_every_digit(tmp_path: Path) -> None:
    """A class name that would squeeze an 80-column table: the log still has every number."""
    from PIL import Image

    from cvtool.core.artifacts import atomic_write_text

    data = tmp_path / "data"
    long_name = "a_class_with_a_long_and_very_descriptive_name_" * 3
    names = ["background", long_name]
    for name, value in (("a.png", 1), ("b.png", 0)):
        (data / "images").mkdir(parents=True, exist_ok=True)
        (data / "masks").mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (400, 301)).save(data / "images" / name)
        mask = np.full((301, 400), value, np.uint8)
        mask[0, :7] = 255
        Image.fromarray(mask, mode="L").save(data / "masks" / name)
    atomic_write_text(data / "splits" / "train.txt", "a.png\n")
    atomic_write_text(data / "splits" / "val.txt", "b.png\n")
    atomic_write_text(data / "splits" / "test.txt", "")
    classes = [ClassInfo(i, n, (i, i, i)) for i, n in enumerate(names)]
    DatasetManifest(task="segmentation", classes=classes).save(data)

    done, log = _cvtool_logged(tmp_path, "prepare", "stats", data)
    assert done.returncode == 0, log
    assert "…" not in log
    assert long_name in log and "120,393" in log and "100.0" in log


def _manifest() -> DatasetManifest:
    classes = [ClassInfo(0, "background", (0, 0, 0)), ClassInfo(1, "dog", (128, 0, 0))]
    return DatasetManifest(task="segmentation", classes=classes, source={"format": "coco"})


def test_manifest_round_trip(tmp_path: Path) -> None:
    manifest = _manifest()
    manifest.save(tmp_path)
    loaded = DatasetManifest.load(tmp_path)
    assert loaded == manifest
    assert loaded.num_classes == 2 and loaded.class_names == ["background", "dog"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("task"), "missing field 'task'"),
        (lambda d: d.update(schema_version=99), "schema version 99"),
        (lambda d: d["classes"][1].update(id=5), "class ids must be 0..1"),
        (lambda d: d["classes"][1].update(color=[1, 2]), "is not RGB"),
        (lambda d: d.update(ignore_index=1), "ignore_index 1"),
        (lambda d: d.update(task="detection"), "unknown task"),
    ],
)
def test_manifest_validation_names_the_file(tmp_path: Path, mutate, message: str) -> None:
    d = _manifest().to_dict()
    mutate(d)
    atomic_write_json(tmp_path / "dataset.json", d)
    with pytest.raises(CvtoolError, match=message) as info:
        DatasetManifest.load(tmp_path)
    assert str(tmp_path / "dataset.json") in info.value.message


def test_manifest_missing_and_malformed(tmp_path: Path) -> None:
    with pytest.raises(CvtoolError, match="does not exist"):
        DatasetManifest.load(tmp_path / "nope")
    with pytest.raises(CvtoolError, match="not a prepared dataset"):
        DatasetManifest.load(tmp_path)
    (tmp_path / "dataset.json").write_text("{bad")
    with pytest.raises(CvtoolError, match="not valid JSON"):
        read_json(tmp_path / "dataset.json")


def test_staged_output_dir_refuses_non_empty_and_swaps_atomically(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staged_output_dir(out) as staging:
        (staging / "a.txt").write_text("first")
    assert (out / "a.txt").read_text() == "first"
    with pytest.raises(CvtoolError, match="not empty"), staged_output_dir(out):
        pass
    # a failure half-way keeps the previous output intact and leaves no staging dir behind
    with pytest.raises(RuntimeError), staged_output_dir(out, overwrite=True) as staging:
        (staging / "b.txt").write_text("partial")
        raise RuntimeError("killed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in out.iterdir()) == ["a.txt"]
    with staged_output_dir(out, overwrite=True) as staging:
        (staging / "b.txt").write_text("second")
    assert sorted(p.name for p in out.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_help_lists_stages(cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    for stage in ("prepare",):
        assert stage in result.stdout


def test_test_module_names_are_unique() -> None:
    """Test folders are not packages, so two test files with one name cannot both be collected."""
    from collections import Counter

    names = Counter(p.name for p in Path(__file__).parent.rglob("test_*.py"))
    assert [n for n, count in names.items() if count > 1] == []
