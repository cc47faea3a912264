"""`cvtool track mot17 | eval | info` end to end on a synthetic sequence, and their errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cvtool.synthetic.tracks import SyntheticConfig, write_sequence

SMALL = SyntheticConfig(frames=40, objects=5, width=320, height=240, seed=1)


@pytest.fixture
def mot_root(tmp_path: Path) -> Path:
    root = tmp_path / "mot"
    seq = write_sequence(root, SMALL, name="SYN-01")
    (seq.path / "img1").mkdir()
    rng = np.random.default_rng(0)
    for t in (1, 2, 3):
        pixels = rng.integers(0, 255, (SMALL.height, SMALL.width, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(seq.frame_path(t))
    return root


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_track_then_eval(cli, mot_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    for tracker in ("iou", "bytetrack"):
        result = cli("track", "mot17", "--root", mot_root, "--tracker", tracker, "--out", out)
        assert result.exit_code == 0, result.stderr
        assert last_line(result.stdout) == str(out / tracker)
        run = json.loads((out / tracker / "run.json").read_text())
        assert run["tracker"] == tracker
        assert run["sequences"]["SYN-01"]["frames"] == SMALL.frames
        assert run["sequences"]["SYN-01"]["fps"] > 0
        lines = (out / tracker / "SYN-01.txt").read_text().splitlines()
        assert lines and all(len(line.split(",")) == 10 for line in lines)

    result = cli("track", "eval", out, "--gt", mot_root)
    assert result.exit_code == 0, result.stderr
    assert last_line(result.stdout) == str(out)
    with (out / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["tracker"], r["sequence"]) for r in rows] == [
        ("bytetrack", "SYN-01"),
        ("bytetrack", "COMBINED"),
        ("iou", "SYN-01"),
        ("iou", "COMBINED"),
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["combined"]["iou"]["HOTA"] == pytest.approx(float(rows[3]["HOTA"]), abs=1e-6)
    assert "motmetrics" in summary["cross_check"]["iou"]
    assert (out / "plots" / "metrics.png").stat().st_size > 0
    assert "HOTA" in result.stderr and "bytetrack" in result.stderr


def test_existing_output_needs_overwrite(cli, mot_root: Path, tmp_path: Path) -> None:
    args = ("track", "mot17", "--root", mot_root, "--tracker", "iou", "--out", tmp_path / "r")
    assert cli(*args).exit_code == 0
    result = cli(*args)
    assert result.exit_code == 1
    assert "already exists" in result.stderr
    assert cli(*args, "--overwrite", "--interpolate", "5").exit_code == 0


def test_tracker_settings_reach_the_run(cli, mot_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    args = ("track", "mot17", "--root", mot_root, "--out", out)
    result = cli(
        *args, "--tracker", "iou", "--min-iou", "0.5", "--hungarian", "--min-det-score", 0.2
    )
    assert result.exit_code == 0, result.stderr
    config = json.loads((out / "iou" / "run.json").read_text())["config"]
    assert config == {"min_det_score": 0.2, "min_iou": 0.5, "max_lost": 5, "hungarian": True}
    result = cli(*args, "--tracker", "bytetrack", "--kalman-boxes", "--track-buffer", "30")
    assert result.exit_code == 0, result.stderr
    config = json.loads((out / "bytetrack" / "run.json").read_text())["config"]
    assert (config["detection_boxes"], config["track_buffer"], config["fuse_score"]) == (
        False,
        30,
        True,
    )
    result = cli(*args, "--tracker", "iou", "--track-buffer", "30", "--overwrite")
    assert result.exit_code != 0
    assert "--track-buffer is not a setting of the iou tracker" in result.stderr
    assert cli(*args, "--no-overwrite").exit_code == 2  # plain flags: no negative form
    assert cli(*args, "--no-render").exit_code == 2


def test_default_out_is_a_numbered_run_folder(
    cli, mot_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for run in ("iou", "iou2"):
        result = cli("track", "mot17", "--root", mot_root, "--tracker", "iou")
        assert result.exit_code == 0, result.stderr
        assert last_line(result.stdout) == str(Path("runs", "track", run, "iou"))
        assert (tmp_path / "runs" / "track" / run / "iou" / "SYN-01.txt").is_file()


def test_workers_give_the_same_results(cli, mot_root: Path, tmp_path: Path) -> None:
    write_sequence(mot_root, SyntheticConfig(frames=30, objects=4, seed=2), name="SYN-02")
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        args = ("--root", mot_root, "--tracker", "iou", "--out", out, "--workers", workers)
        result = cli("track", "mot17", *args)
        assert result.exit_code == 0, result.stderr
    for seq in ("SYN-01.txt", "SYN-02.txt"):
        assert (tmp_path / "w1" / "iou" / seq).read_text() == (
            tmp_path / "w2" / "iou" / seq
        ).read_text()


def test_eval_ignores_hidden_staging_folders(cli, mot_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert (
        cli("track", "mot17", "--root", mot_root, "--tracker", "iou", "--out", out).exit_code == 0
    )
    staging = out / ".bytetrack.partial-1234"  # a run still being written
    staging.mkdir()
    (staging / "SYN-01.txt").write_text((out / "iou" / "SYN-01.txt").read_text())
    result = cli("track", "eval", out, "--gt", mot_root, "--no-cross-check")
    assert result.exit_code == 0, result.stderr
    assert list(json.loads((out / "summary.json").read_text())["trackers"]) == ["iou"]


def test_render_writes_playable_mp4(cli, mot_root: Path, tmp_path: Path) -> None:
    import cv2

    out = tmp_path / "r"
    result = cli("track", "mot17", "--root", mot_root, "--tracker", "iou", "--out", out, "--render")
    assert result.exit_code == 0, result.stderr
    video = cv2.VideoCapture(str(out / "iou" / "videos" / "SYN-01.mp4"))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
    ok, frame = video.read()
    assert ok and frame.shape == (SMALL.height, SMALL.width, 3)


def test_info(cli, mot_root: Path, tmp_path: Path) -> None:
    result = cli("track", "info", mot_root, "--out", tmp_path / "info")
    assert result.exit_code == 0, result.stderr
    info = json.loads((tmp_path / "info" / "info.json").read_text())["sequences"][0]
    assert (info["name"], info["frames"], info["images"], info["frame_rate"]) == (
        "SYN-01",
        40,
        3,
        30.0,
    )
    gt = np.loadtxt(mot_root / "SYN-01" / "gt" / "gt.txt", delimiter=",")
    assert info["ground_truth"]["total"] == len(gt)
    assert info["ground_truth"]["tracks"] == len(np.unique(gt[:, 1]))
    assert info["ground_truth"]["max_per_frame"] == np.bincount(gt[:, 0].astype(int)).max()
    assert (tmp_path / "info" / "first_frames.png").stat().st_size > 0
    assert (tmp_path / "info" / "boxes_per_frame.png").stat().st_size > 0


def test_detections_from_a_folder(cli, mot_root: Path, tmp_path: Path) -> None:
    dets = tmp_path / "dets"
    dets.mkdir()
    (dets / "SYN-01.txt").write_text("1,-1,5,5,20,50,0.9\n3,-1,5,5,20,50,0.9\n")  # MOT15 style
    out = tmp_path / "r"
    args = ("track", "mot17", "--root", mot_root, "--tracker", "iou", "--out", out)
    assert cli(*args, "--detections", dets).exit_code == 0
    assert (out / "iou" / "SYN-01.txt").read_text().splitlines() == [
        "1,1,5.00,5.00,20.00,50.00,0.9,-1,-1,-1",
        "3,1,5.00,5.00,20.00,50.00,0.9,-1,-1,-1",
    ]
    result = cli(*args, "--overwrite", "--detections", tmp_path / "nowhere")
    assert result.exit_code == 1
    assert "no detections for SYN-01" in result.stderr


def test_unknown_sequence_is_a_clear_error(cli, mot_root: Path, tmp_path: Path) -> None:
    result = cli(
        "track", "mot17", "--root", mot_root, "--seqs", "MOT17-99", "--out", tmp_path / "r"
    )
    assert result.exit_code == 1
    assert "MOT17-99 not found" in result.stderr and "available: SYN-01" in result.stderr


def test_bad_det_file_is_a_clear_error(cli, mot_root: Path, tmp_path: Path) -> None:
    (mot_root / "SYN-01" / "det" / "det.txt").write_text("1,-1,5,5,-20,50,0.9\n")
    result = cli("track", "mot17", "--root", mot_root, "--out", tmp_path / "r")
    assert result.exit_code == 1
    assert "det.txt line 1: negative" in result.stderr
    assert not (tmp_path / "r" / "bytetrack").exists()


def test_eval_errors(cli, mot_root: Path, tmp_path: Path) -> None:
    result = cli("track", "eval", tmp_path / "missing", "--gt", mot_root)
    assert result.exit_code == 1 and "does not exist" in result.stderr
    (tmp_path / "empty").mkdir()
    result = cli("track", "eval", tmp_path / "empty", "--gt", mot_root)
    assert result.exit_code == 1 and "holds no tracker results" in result.stderr
    (tmp_path / "trk").mkdir()
    (tmp_path / "trk" / "OTHER.txt").write_text("")
    result = cli("track", "eval", tmp_path / "trk", "--gt", mot_root, "--out", tmp_path / "e")
    assert result.exit_code == 1 and "no result file is named after a sequence" in result.stderr
    result = cli("track", "eval", tmp_path / "trk", "--gt", mot_root)
    assert result.exit_code == 1 and "give an output folder" in result.stderr
    assert sorted(p.name for p in (tmp_path / "trk").iterdir()) == ["OTHER.txt"]


def test_yolo_without_weights_file_fails_at_once(cli, mot_root: Path, tmp_path: Path) -> None:
    args = ("track", "mot17", "--root", mot_root, "--out", tmp_path / "r", "--detector", "yolo")
    result = cli(*args, "--weights", tmp_path / "yolov8n.pt")
    assert result.exit_code == 1
    assert "weights file not found" in result.stderr and "nothing is downloaded" in result.stderr
    assert cli(*args).exit_code == 2  # --weights is required with --detector yolo


@pytest.mark.slow
def test_yolo_detector_plumbing_with_random_weights(cli, mot_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    result = cli(
        "track", "mot17", "--root", mot_root, "--out", out, "--tracker", "iou",
        "--detector", "yolo", "--weights", "yolov8n.yaml", "--conf", "0.0001",
        "--size", "160x224", "--batch-size", "2", "--device", "cpu",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    dets = np.loadtxt(out / "detections" / "SYN-01.txt", delimiter=",", ndmin=2)
    assert dets.shape[1] == 10 and set(np.unique(dets[:, 0])) <= {1, 2, 3}
    tracked = np.loadtxt(out / "iou" / "SYN-01.txt", delimiter=",", ndmin=2)
    assert len(tracked) == len(dets)  # the IoU tracker reports every detection
    result = cli("track", "eval", out, "--gt", mot_root, "--no-cross-check")
    assert result.exit_code == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["trackers"]) == ["iou"]  # detections/ is not a tracker
