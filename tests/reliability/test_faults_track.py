"""`track mot17` (public detections, and a detector's: two artifacts, `detections/` and the
tracker folder), `track eval`, `track info` and `track video` killed at their file operations.
The detector is a random-weight YOLOv8n built from its yaml: offline."""

from __future__ import annotations

import os
from pathlib import Path

import complete
import numpy as np
import pytest
from faults import sweep
from PIL import Image

import cvtool
from cvtool.synthetic.tracks import SyntheticConfig, write_sequence

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    pytest.mark.usefixtures("one_thread", "quick_figures"),
]
SMALL = SyntheticConfig(frames=12, objects=3, width=320, height=240, seed=1)
SEQS = ("SYN-01", "SYN-02")


@pytest.fixture
def mot_root(tmp_path: Path) -> Path:
    """Two short synthetic sequences, three frames of images each."""
    root = tmp_path / "mot"
    rng = np.random.default_rng(0)
    for name in SEQS:
        seq = write_sequence(root, SMALL, name=name)
        (seq.path / "img1").mkdir()
        for t in (1, 2, 3):
            pixels = rng.integers(0, 255, (SMALL.height, SMALL.width, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(seq.frame_path(t))
    return root


def _results(folder: Path) -> None:
    """A tracker (or detections) folder: one MOTChallenge file per sequence."""
    for name in SEQS:
        assert (folder / f"{name}.txt").is_file(), f"{folder}: no {name}.txt"


def _tracked(folder: Path) -> None:
    _results(folder)
    assert set(complete.json_file(folder / "run.json")["sequences"]) == set(SEQS)


def test_track_mot17(tmp_path: Path, mot_root: Path) -> None:
    out = tmp_path / "runs" / "track"
    cvtool.track_objects(mot_root, out, "iou", max_lost=1)
    write = lambda: cvtool.track_objects(mot_root, out, "iou", overwrite=True)  # noqa: E731
    refuse = lambda staging: cvtool.evaluate_tracking(staging, mot_root)  # noqa: E731
    sweep("track mot17", {out / "iou": _tracked}, write, tmp_path, refuse=refuse)


@pytest.mark.usefixtures("yolo_once")
def test_track_mot17_with_a_detector(tmp_path: Path, mot_root: Path) -> None:
    out = tmp_path / "runs" / "track"

    def track(conf: float, **options: object) -> None:
        cvtool.track_objects(
            mot_root, out, "iou", weights="yolov8n.yaml", size=64, conf=conf, **options
        )

    def refuse(staging: Path) -> None:
        cvtool.track_objects(mot_root, tmp_path / "r", "iou", detections=staging)

    track(0.5)
    write = lambda: track(0.0001, overwrite=True)  # noqa: E731
    artifacts = {out / "detections": _results, out / "iou": _tracked}
    sweep("track mot17 --weights", artifacts, write, tmp_path, refuse=refuse)


def test_track_eval_in_the_run_folder(tmp_path: Path, mot_root: Path) -> None:
    out = tmp_path / "runs" / "track"
    cvtool.track_objects(mot_root, out, "iou")
    tracker = {p.name: p.read_bytes() for p in (out / "iou").iterdir()}

    def scored(path: Path) -> None:
        assert {p.name: p.read_bytes() for p in (path / "iou").iterdir()} == tracker
        assert complete.json_file(path / "summary.json")["combined"]["iou"]
        assert (path / "metrics.csv").is_file()

    def evaluate(**options: object) -> None:
        cvtool.evaluate_tracking(out, mot_root, cross_check=False, **options)

    refuse = lambda staging: cvtool.compare([staging], tmp_path / "c")  # noqa: E731
    evaluate(plots=False)
    write = lambda: evaluate(overwrite=True)  # noqa: E731
    sweep("track eval", {out: scored}, write, tmp_path, refuse=refuse)


def test_track_info(tmp_path: Path, mot_root: Path) -> None:
    out = tmp_path / "info" / "mot"

    def described(path: Path) -> None:
        sequences = complete.json_file(path / "info.json")["sequences"]
        assert [s["name"] for s in sequences] == list(SEQS)
        assert (path / "boxes_per_frame.png").is_file() and (path / "first_frames.png").is_file()

    cvtool.describe_sequences(mot_root, out, seqs=SEQS[0])
    write = lambda: cvtool.describe_sequences(mot_root, out, overwrite=True)  # noqa: E731
    sweep("track info", {out: described}, write, tmp_path)


@pytest.mark.usefixtures("yolo_once")
def test_track_video(tmp_path: Path, mot_root: Path) -> None:
    pytest.importorskip("av")
    frames = mot_root / SEQS[0] / "img1"
    out = tmp_path / "videos" / "img1-iou"

    def track(conf: float, **options: object) -> None:
        cvtool.track_video(frames, "yolov8n.yaml", out, "iou", size=64, conf=conf, **options)

    def tracked(path: Path) -> None:
        run = complete.json_file(path / "run.json")
        assert run["frames"] == 3
        for name in ("img1.txt", "img1.mp4", "tracks.csv"):
            assert (path / name).is_file(), f"{path}: no {name}"

    track(0.5)
    write = lambda: track(0.01, overwrite=True)  # noqa: E731
    sweep("track video", {out: tracked}, write, tmp_path)
