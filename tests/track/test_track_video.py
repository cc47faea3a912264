"""`cvtool track video` on a short video written from MOT17-05's real frames, and its errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import cvtool
from cvtool.detect.yolo import ImageBoxes
from cvtool.track import video as video_module
from cvtool.track.frames import open_frames, read_bgr
from cvtool.track.mot import read_mot_txt, read_seqinfo
from cvtool.track.registry import TRACKERS
from cvtool.track.stats import summarize, track_statistics

SEQUENCE = "MOT17-05-FRCNN"  # 640x480 at 14 fps, 6 frames in img1/


def write_video(path: Path, images: list[np.ndarray], frame_rate: int) -> Path:
    """An mp4 (MPEG-4 part 2) of BGR images, written with PyAV."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=frame_rate)
        stream.height, stream.width = images[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for image in images:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode())
    return path


@pytest.fixture
def sequence(mot17: Path) -> Path:
    return mot17 / SEQUENCE


@pytest.fixture
def video(sequence: Path, tmp_path: Path) -> Path:
    seq = read_seqinfo(sequence)
    images = [read_bgr(seq.frame_path(t)) for t in seq.available_frames()]
    return write_video(tmp_path / "mot17-05.mp4", images, round(seq.frame_rate))


def test_video_reader(video: Path) -> None:
    with open_frames(video) as stream:
        frames = list(stream.frames)
    assert (stream.name, stream.frame_rate, stream.count) == ("mot17-05", 14.0, 6)
    assert len(frames) == 6 and frames[0].shape == (480, 640, 3) and frames[0].dtype == np.uint8


def test_track_video_with_a_random_detector(cli, video: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ("track", "video", video, "--weights", "yolov8n.yaml", "--tracker", "iou")
    result = cli(*args, "--out", out, "--size", "160", "--conf", "0.0001", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["path"] == str(out) and summary["frames"] == 6
    assert summary["frame_rate"] == 14.0 and summary["tracker"] == "iou"
    assert (out / "mot17-05.mp4").stat().st_size > 1000
    with open_frames(out / "mot17-05.mp4") as rendered:
        assert len(list(rendered.frames)) == 6
    rows = read_mot_txt(out / "mot17-05.txt", "results", length=6)
    assert len(rows) == summary["boxes"]
    run = json.loads((out / "run.json").read_text())
    assert run["weights"] == "yolov8n.yaml" and run["detector"]["imgsz"] == 160
    assert run["versions"]["av"] and run["classes"] is None  # a yaml model has no class names


def test_tracks_of_the_ground_truth_boxes(
    sequence: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ground-truth boxes as detections: every box is tracked, each person at least once."""
    gt = read_mot_txt(sequence / "gt" / "gt.txt", "gt")
    gt = gt[(gt[:, 6] == 1) & (gt[:, 7] == 1) & (gt[:, 0] <= 6)]  # pedestrians, frames 1..6
    calls = iter(range(1, 7))

    def ground_truth(model, images, opts, classes=None):
        boxes = []
        for _ in images:
            rows = gt[gt[:, 0] == next(calls)]
            xyxy = np.column_stack([rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]])
            boxes.append(ImageBoxes(xyxy, np.ones(len(rows)), np.zeros(len(rows), np.int64)))
        return boxes, 0.01

    monkeypatch.setattr(video_module, "predict_chunk", ground_truth)
    result = cvtool.track_video(
        sequence / "img1", "yolov8n.yaml", tmp_path / "gt", "iou", batch_size=4, frame_rate=14
    )
    assert result.frames == 6 and result.detections == result.boxes == len(gt)
    assert result.tracks["tracks"] >= len(np.unique(gt[:, 1]))  # 14 fps, moving camera
    assert result.video is not None and result.video.is_file()
    with (tmp_path / "gt" / "tracks.csv").open() as f:
        tracks = list(csv.DictReader(f))
    assert len(tracks) == result.tracks["tracks"]
    assert sum(int(t["boxes"]) for t in tracks) == len(gt)
    assert sum(int(t["gaps"]) for t in tracks) == result.tracks["gaps"]
    if TRACKERS["botsort"].available():  # takes the decoded frames for motion compensation
        calls = iter(range(1, 7))
        boxmot = cvtool.track_video(sequence / "img1", "yolov8n.yaml", tmp_path / "bot", "botsort")
        assert boxmot.frames == 6 and 0 < boxmot.boxes <= len(gt)


def test_track_statistics_lengths_and_gaps() -> None:
    rows = np.array(
        [
            [1, 1, 0, 0, 1, 1, 0.5],
            [2, 1, 0, 0, 1, 1, 0.7],
            [5, 1, 0, 0, 1, 1, 0.9],
            [3, 2, 0, 0, 1, 1, 1],
        ]
    )
    first, second = track_statistics(rows)
    assert (first.length, first.boxes, first.gaps, first.missing, first.longest_gap) == (
        5, 3, 1, 2, 2,
    )  # fmt: skip
    assert first.mean_score == pytest.approx(0.7) and second.length == 1
    summary = summarize([first, second], frame_rate=2.0)
    assert summary["tracks"] == 2 and summary["short_tracks"] == 1
    assert summary["tracks_with_gaps"] == 1 and summary["longest_gap"] == 2
    assert summarize([], 30.0) == {"tracks": 0}


def test_track_video_errors(cli, tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_text("not a video")
    weights = ("--weights", "yolov8n.yaml")
    result = cli("track", "video", broken, *weights, "--out", tmp_path / "a")
    assert result.exit_code == 1 and "cannot open video" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("track", "video", empty, *weights, "--out", tmp_path / "b")
    assert result.exit_code == 1 and "no images" in result.stderr
    result = cli("track", "video", tmp_path / "missing.mp4", *weights)
    assert result.exit_code == 1 and "not found" in result.stderr
    result = cli("track", "video", empty, *weights, "--tracker", "nope")
    assert result.exit_code == 2 and "nope" in result.stderr
    noise = np.random.default_rng(0).integers(0, 255, (2, 64, 96, 3), dtype=np.uint8)
    clip = write_video(tmp_path / "noise.mp4", list(noise), 10)
    result = cli("track", "video", clip, "--weights", tmp_path / "none.pt")
    assert result.exit_code == 1 and "weights file not found" in result.stderr
    with pytest.raises(cvtool.ParameterError, match="no class 'unicorn'") as error:
        cvtool.track_video(clip, "yolov8n.yaml", tmp_path / "c", classes="unicorn")
    assert error.value.param == "classes"
    assert not any(p.name.startswith(("a", "b", "c")) for p in tmp_path.iterdir() if p.is_dir())
