"""The writers that used to write in place: one artifact, `--overwrite` or nothing; and what the
next writer clears of a killed one (temporary files, a default name taken by a lock)."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import Case, assert_refused

import cvtool
from cvtool.core.artifacts import replaced_file
from cvtool.core.errors import CvtoolError
from cvtool.core.locks import OutputLock
from cvtool.core.outputs import remove_temp_files
from cvtool.core.rundirs import next_run_dir
from cvtool.synthetic.tracks import SyntheticConfig, write_sequence


def test_stats_and_track_info_replace_only_with_overwrite(
    tmp_path: Path, seg_data: Path, cli
) -> None:
    gt = tmp_path / "gt"
    write_sequence(gt, SyntheticConfig(frames=10, objects=2, occlusions=0))
    commands = {
        "stats": ["prepare", "stats", seg_data, "--out", tmp_path / "stats", "--workers", 1],
        "info": ["track", "info", gt, "--out", tmp_path / "info"],
    }
    for name, args in commands.items():
        assert cli(*args).exit_code == 0
        assert_refused(cli, Case(name, args, 1, ["already exists", "--out"]), tmp_path)
        done = cli(*args, "--overwrite")
        assert done.exit_code == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "stats").iterdir()) == [
        "class_distribution.csv",
        "class_distribution.png",
    ]


def test_existing_detections_are_refused_before_the_detector_runs(tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    write_sequence(gt, SyntheticConfig(frames=10, objects=2, occlusions=0))
    out = tmp_path / "run"
    (out / "detections").mkdir(parents=True)
    (out / "detections" / "SYN-01.txt").write_text("")
    with pytest.raises(CvtoolError, match=r"detections already exists") as error:
        cvtool.track_objects(gt, out, "iou", weights=tmp_path / "missing.pt")
    assert error.value.param == "out"  # not the missing weights: nothing was loaded


def test_a_default_name_being_written_is_taken(tmp_path: Path) -> None:
    """A new training run has no run dir until its first checkpoint, only its lock."""
    with OutputLock(tmp_path / "train" / "unet"):
        assert next_run_dir("train", "unet", tmp_path) == tmp_path / "train" / "unet2"
    assert next_run_dir("train", "unet", tmp_path) == tmp_path / "train" / "unet"


def test_temporary_files_of_a_killed_writer_are_cleared(tmp_path: Path) -> None:
    target = tmp_path / "best.onnx"
    left = [tmp_path / ".best.onnx.k2j_9x0a.onnx", tmp_path / ".best.onnx.a1b2c3d4.onnx"]
    kept = [tmp_path / ".best.onnx.lock", tmp_path / ".best.onnx.notatemp", tmp_path / "x.onnx"]
    for path in left + kept:
        path.write_bytes(b"")
    remove_temp_files(target)
    assert sorted(tmp_path.iterdir()) == sorted(kept)

    with replaced_file(target) as tmp:
        tmp.write_bytes(b"new")
    with pytest.raises(CvtoolError, match="already exists"), replaced_file(target) as tmp:
        tmp.write_bytes(b"newer")
    assert target.read_bytes() == b"new"
    with replaced_file(target, overwrite=True) as tmp:
        tmp.write_bytes(b"newer")
    assert target.read_bytes() == b"newer"
    names = sorted(p.name for p in tmp_path.iterdir())  # the lock released: no lock file
    assert names == [".best.onnx.notatemp", "best.onnx", "x.onnx"]
