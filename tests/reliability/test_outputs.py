"""Outputs: one writer at a time, no stage writes over its input or into an earlier output
without `--overwrite`, and no reader takes a staging directory for an artifact."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest
from corpus import Case, assert_refused, coco_raw, disk_state, write_json

from cvtool.core.errors import CvtoolError
from cvtool.core.locks import OutputLock, lock_path
from tests.detect.detect_fixtures import tiny_dataset
from tests.segment.conftest import (
    label_masks,
    noisy_predictions,
    write_dataset,
    write_predictions,
)


def _coco_args(tmp_path: Path, out: Path, *extra: object) -> list[object]:
    raw = tmp_path / "raw"
    return [
        "prepare",
        "coco",
        "--annotations",
        raw / "instances.json",
        "--images",
        raw / "images",
        "--classes",
        "person,car",
        "--workers",
        1,
        "--out",
        out,
        *extra,
    ]


def test_a_second_writer_is_refused_naming_the_first(tmp_path: Path, cli) -> None:
    coco_raw(tmp_path / "raw").write()
    out = tmp_path / "o"
    with OutputLock(out):
        held = disk_state(tmp_path)
        result = cli(*_coco_args(tmp_path, out))
        assert result.exit_code == 1, result.stderr
        assert f"pid {os.getpid()}" in result.stderr and "being written by" in result.stderr
        assert disk_state(tmp_path) == held
    assert not lock_path(out).exists()
    assert cli(*_coco_args(tmp_path, out)).exit_code == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_stale_lock_is_taken_over(tmp_path: Path, cli) -> None:
    coco_raw(tmp_path / "raw").write()
    out = tmp_path / "o"
    pid = os.fork()
    if pid == 0:  # a writer that dies holding the lock
        OutputLock(out).acquire()
        os._exit(0)
    os.waitpid(pid, 0)
    assert lock_path(out).is_file()
    result = cli(*_coco_args(tmp_path, out))
    assert result.exit_code == 0, result.stderr
    assert f"left by pid {pid}" in result.stderr and "no longer running" in result.stderr
    assert not lock_path(out).exists()


def test_without_flock_the_recorded_pid_decides(tmp_path: Path, monkeypatch) -> None:
    """Where `fcntl` is missing, a lock is held while its recorded process runs."""
    from cvtool.core import locks

    monkeypatch.setattr(locks, "fcntl", None)
    out = tmp_path / "o"
    with OutputLock(out), pytest.raises(CvtoolError, match=f"pid {os.getpid()}"):
        OutputLock(out).acquire()
    dead = locks.Owner(2**22 + 7, locks.socket.gethostname(), "then", "cvtool x")
    lock_path(out).write_text(json.dumps(dataclasses.asdict(dead)))
    with OutputLock(out) as lock:
        assert lock.stale == dead
    assert not lock_path(out).exists()


def test_training_holds_its_run_dir(tmp_path: Path, seg_data: Path, cli) -> None:
    out = tmp_path / "run"
    with OutputLock(out):
        result = cli(
            "train",
            "unet",
            "--data",
            seg_data,
            "--out",
            out,
            "--epochs",
            1,
            "--width",
            4,
            "--workers",
            1,
            "--device",
            "cpu",
        )
    assert result.exit_code == 1 and "being written by pid" in result.stderr
    assert not out.exists()


def _eval_dir(tmp_path: Path, cli, name: str) -> tuple[Path, Path]:
    masks = label_masks()
    data = tmp_path / "data"
    if not data.exists():
        write_dataset(data, masks)
    preds = write_predictions(tmp_path / name, noisy_predictions(masks))
    out = tmp_path / f"{name}-eval"
    args = ("evaluate", "--predictions", preds, "--data", data, "--out", out, "--workers", 1)
    assert cli(*args).exit_code == 0
    return data, out


def test_compare_replaces_its_output_only_with_overwrite(tmp_path: Path, cli) -> None:
    _, first = _eval_dir(tmp_path, cli, "a")
    _, second = _eval_dir(tmp_path, cli, "b")
    out = tmp_path / "cmp"
    assert cli("compare", first, second, "--out", out).exit_code == 0
    (out / "notes.txt").write_text("an old file")
    case = Case("compare again", ["compare", first, "--out", out], 1, ["already exists", "--out"])
    assert_refused(cli, case, tmp_path)
    assert cli("compare", first, "--out", out, "--overwrite").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["comparison.csv", "comparison.md"]
    cases = [
        Case("into an eval dir", ["compare", first, second, "--out", second], 2, ["is the input"]),
        Case("inside one", ["compare", first, "--out", first / "c"], 2, ["lies inside"]),
    ]
    for case in cases:
        assert_refused(cli, case, tmp_path)


def test_readers_refuse_staging_directories(tmp_path: Path, cli) -> None:
    data, first = _eval_dir(tmp_path, cli, "a")
    staging = tmp_path / ".a-eval.partial-abc123"
    shutil.copytree(first, staging)
    staged_data = tmp_path / ".data.partial-xyz789"
    shutil.copytree(data, staged_data)
    preds = tmp_path / "a"
    runs = tmp_path / ".runs.partial-k2j3h4"
    (runs / "iou").mkdir(parents=True)
    (runs / "iou" / "SEQ.txt").write_text("")
    detect = tmp_path / ".det.partial-q1w2e3"
    write_json(detect / "predictions.json", [])
    out = tmp_path / "x"
    cases = [
        Case("compare", ["compare", staging, "--out", out], 1, [str(staging), "staging"]),
        Case("merge", ["evaluate", "--merge", staging, first, "--out", out], 1, ["staging"]),
        Case(
            "dataset",
            ["evaluate", "--predictions", preds, "--data", staged_data, "--out", out],
            1,
            [str(staged_data), "staging"],
        ),
        Case("stats", ["prepare", "stats", staged_data, "--out", out], 1, ["staging"]),
        Case(
            "detect eval",
            ["detect", "eval", detect, "--annotations", tmp_path / "gt.json", "--out", out],
            1,
            ["staging"],
        ),
        Case("track eval", ["track", "eval", runs, "--gt", tmp_path, "--out", out], 1, ["staging"]),
    ]
    for case in cases:
        assert_refused(cli, case, tmp_path)


def test_detect_eval_replaces_its_files_in_a_run_dir_only_with_overwrite(
    tmp_path: Path, cli
) -> None:
    gt = write_json(tmp_path / "gt.json", tiny_dataset())
    run = tmp_path / "run"
    write_json(run / "predictions.json", [])
    write_json(run / "run.json", {"annotations": str(gt)})
    assert cli("detect", "eval", run).exit_code == 0
    assert (run / "plots").is_dir()
    case = Case("again", ["detect", "eval", run, "--no-plots"], 1, ["already holds", "--out"])
    assert_refused(cli, case, tmp_path)
    assert cli("detect", "eval", run, "--no-plots", "--overwrite").exit_code == 0
    assert not (run / "plots").exists()  # the old evaluation is gone, not mixed in
    assert {"predictions.json", "run.json", "coco_eval.json"} <= {p.name for p in run.iterdir()}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("not ours")
    cases = [
        Case("non-empty", ["detect", "eval", run, "--out", elsewhere], 1, ["already exists"]),
        Case(
            "holds gt",
            ["detect", "eval", run, "--out", tmp_path, "--overwrite"],
            2,
            ["contains the input --annotations"],
        ),
        Case(
            "garbled run.json",
            ["detect", "eval", run, "--out", tmp_path / "n"],
            1,
            ["run.json", "malformed field 'annotations'"],
        ),
    ]
    for case in cases:
        if case.name == "garbled run.json":
            write_json(run / "run.json", {"annotations": 7})
        assert_refused(cli, case, tmp_path)


def test_track_eval_replaces_its_files_only_with_overwrite(tmp_path: Path, cli) -> None:
    from cvtool.synthetic.tracks import SyntheticConfig, write_sequence

    gt = tmp_path / "gt"
    write_sequence(gt, SyntheticConfig(frames=20, objects=3, occlusions=0))
    runs = tmp_path / "runs"
    assert cli("track", "mot17", "--root", gt, "--tracker", "iou", "--out", runs).exit_code == 0
    assert cli("track", "eval", runs, "--gt", gt, "--no-cross-check").exit_code == 0
    assert (runs / "plots").is_dir()
    cases = [
        Case("again", ["track", "eval", runs, "--gt", gt], 1, ["already holds", "metrics.csv"]),
        Case("into gt", ["track", "eval", runs, "--gt", gt, "--out", gt / "e"], 2, ["--gt"]),
        Case(
            "over results",
            ["track", "eval", runs, "--gt", gt, "--out", runs / "iou"],
            2,
            ["lies inside the input"],
        ),
        Case(
            "root as out",
            ["track", "mot17", "--root", gt, "--tracker", "iou", "--out", gt],
            2,
            ["lies inside the input --root"],
        ),
        Case(
            "interpolate",
            ["track", "mot17", "--root", gt, "--interpolate", -1, "--out", tmp_path / "t"],
            2,
            ["--interpolate"],
        ),
        Case(
            "setting",
            [
                "track",
                "mot17",
                "--root",
                gt,
                "--tracker",
                "iou",
                "--min-iou",
                2,
                "--out",
                tmp_path / "t",
            ],
            2,
            ["--min-iou"],
        ),
    ]
    for case in cases:
        assert_refused(cli, case, tmp_path)
    (runs / "plots" / "old.png").write_bytes(b"an earlier plot")
    args = ("track", "eval", runs, "--gt", gt, "--no-cross-check", "--overwrite")
    assert cli(*args).exit_code == 0
    assert not (runs / "plots" / "old.png").exists() and (runs / "iou").is_dir()


def test_demo_never_replaces_what_it_did_not_write(tmp_path: Path, cli, monkeypatch) -> None:
    from cvtool.demo import pipeline

    out = tmp_path / "demo"
    (out / "prepare").mkdir(parents=True)
    (out / "prepare" / "mine.txt").write_text("precious")
    for extra in ((), ("--overwrite",)):
        case = Case("clash", ["demo", "--out", out, *extra], 1, ["holds prepare", "did not"])
        assert_refused(cli, case, tmp_path)
    shutil.rmtree(out / "prepare")
    (out / "notes.txt").write_text("precious")
    assert_refused(cli, Case("foreign", ["demo", "--out", out], 1, ["not written by"]), tmp_path)

    # fast legs, each writing its own folder as the real ones do
    legs = tuple((n, lambda opts, state, n=n: _leg(opts, n)) for n in pipeline.DEMO_OUTPUTS)
    monkeypatch.setattr(pipeline, "LEGS", legs)
    assert cli("demo", "--out", out, "--overwrite").exit_code == 0
    assert (out / "notes.txt").read_text() == "precious"
    marker = json.loads((out / "demo.json").read_text())
    assert marker["outputs"] == list(pipeline.DEMO_OUTPUTS)
    assert cli("demo", "--out", out).exit_code == 0  # its own folders: replaced freely


def _leg(opts, name: str):
    from cvtool.demo import pipeline

    (opts.out / name).mkdir(exist_ok=True)
    return pipeline.DemoStep(name, "test", opts.out / name)


def test_outputs_get_the_mode_of_any_new_file(tmp_path: Path, cli) -> None:
    """Staging folders and temporary files are private while written; the artifact is not."""
    from cvtool.core.outputs import UMASK

    coco_raw(tmp_path / "raw").write()
    out = tmp_path / "out"
    assert cli(*_coco_args(tmp_path, out)).exit_code == 0

    assert (out.stat().st_mode & 0o777) == 0o777 & ~UMASK
    assert ((out / "dataset.json").stat().st_mode & 0o777) == 0o666 & ~UMASK
