"""The IoU tracker and the ByteTrack adapter on hand-built sequences with exact outcomes."""

from __future__ import annotations

import numpy as np
import pytest

from cvtool.track.bytetrack import ByteTracker
from cvtool.track.config import ByteTrackConfig, IouTrackerConfig
from cvtool.track.interpolate import interpolate_gaps
from cvtool.track.iou_tracker import IouTracker, greedy_match, hungarian_match
from cvtool.track.run import track_detections


def box(x: float, y: float = 0.0, w: float = 10.0, h: float = 10.0) -> list[float]:
    return [x, y, w, h]


def det_rows(frames: dict[int, list[tuple[list[float], float]]]) -> np.ndarray:
    """{frame: [(box, score), ...]} -> MOT det rows."""
    rows = [[t, -1, *b, s, -1, -1, -1] for t, items in sorted(frames.items()) for b, s in items]
    return np.array(rows, dtype=float).reshape(-1, 10)


def ids_by_frame(rows: np.ndarray) -> dict[int, dict[float, int]]:
    """frame -> {box x: track id}."""
    out: dict[int, dict[float, int]] = {}
    for r in rows:
        out.setdefault(int(r[0]), {})[round(float(r[2]), 1)] = int(r[1])
    return out


# Two boxes of width 10 crossing at 4 px/frame over 21 frames: A from x=0 rightwards to x=80,
# B from x=60 leftwards to x=-20. They overlap around frames 7-9.
CROSSING_FRAMES = 21
CROSSING = {
    t: [(box(4 * (t - 1)), 0.9), (box(60 - 4 * (t - 1)), 0.9)]
    for t in range(1, CROSSING_FRAMES + 1)
}


def final_x_of_first_id(rows: np.ndarray) -> float:
    """Where the id that started at x=0 ends up in the last frame."""
    first = rows[(rows[:, 0] == 1) & (rows[:, 2] == 0)][0, 1]
    last = rows[(rows[:, 0] == CROSSING_FRAMES) & (rows[:, 1] == first)]
    return float(last[0, 2])


def test_greedy_and_hungarian_matching_differ_where_they_should() -> None:
    iou = np.array([[0.6, 0.7], [0.0, 0.5]])
    r, c = greedy_match(iou, 0.3)
    assert (r.tolist(), c.tolist()) == ([0], [1])  # best pair first blocks the second track
    r, c = hungarian_match(iou, 0.3)
    assert (sorted(zip(r.tolist(), c.tolist(), strict=True))) == [(0, 0), (1, 1)]


def test_iou_tracker_swaps_ids_when_objects_cross() -> None:
    rows, _ = track_detections(IouTracker(), det_rows(CROSSING), CROSSING_FRAMES)
    assert len(np.unique(rows[:, 1])) == 2
    ids = ids_by_frame(rows)
    assert ids[1] == {0.0: 1, 60.0: 2}
    assert ids[8] == {28.0: 1, 32.0: 2}
    # frame 9: A moves to 32 and B to 28, exactly onto each other's last boxes -> the ids swap
    assert ids[9] == {28.0: 1, 32.0: 2}
    assert final_x_of_first_id(rows) == -20.0


def test_bytetrack_keeps_ids_through_the_crossing() -> None:
    rows, _ = track_detections(ByteTracker(), det_rows(CROSSING), CROSSING_FRAMES)
    assert len(np.unique(rows[:, 1])) == 2
    assert final_x_of_first_id(rows) == pytest.approx(80, abs=0.5)  # Kalman velocity: no swap


@pytest.mark.parametrize(("gap", "same_id"), [(2, True), (3, False)])
def test_iou_tracker_survives_gaps_up_to_max_lost(gap: int, same_id: bool) -> None:
    frames = {1: [(box(0), 0.9)], 2: [(box(1), 0.9)], 3 + gap: [(box(1), 0.9)]}
    rows, _ = track_detections(IouTracker(IouTrackerConfig(max_lost=2)), det_rows(frames), 3 + gap)
    assert rows[:, :2].tolist() == [[1, 1], [2, 1], [3 + gap, 1 if same_id else 2]]


def test_iou_tracker_threshold_and_new_tracks() -> None:
    frames = {1: [(box(0), 0.9)], 2: [(box(6), 0.9)]}  # IoU 4/16 = 0.25
    rows, _ = track_detections(IouTracker(IouTrackerConfig(min_iou=0.3)), det_rows(frames), 2)
    assert rows[:, 1].tolist() == [1, 2]
    rows, _ = track_detections(IouTracker(IouTrackerConfig(min_iou=0.2)), det_rows(frames), 2)
    assert rows[:, 1].tolist() == [1, 1]


def test_frames_without_detections_are_fed_as_empty() -> None:
    frames = {2: [(box(0), 0.9)], 5: [(box(0), 0.9)]}
    rows, _ = track_detections(IouTracker(IouTrackerConfig(max_lost=1)), det_rows(frames), 6)
    assert rows[:, :2].tolist() == [[2, 1], [5, 2]]


def test_min_det_score_drops_detections() -> None:
    frames = {1: [(box(0), 0.9), (box(50), 0.2)]}
    rows, _ = track_detections(IouTracker(), det_rows(frames), 1, min_det_score=0.5)
    assert rows[:, 2].tolist() == [0.0]


def test_bytetrack_ids_restart_per_instance() -> None:
    frames = {1: [(box(0), 0.9), (box(50), 0.9)], 2: [(box(1), 0.9), (box(51), 0.9)]}
    for _ in range(2):
        rows, _ = track_detections(ByteTracker(), det_rows(frames), 2)
        assert sorted(set(rows[:, 1].tolist())) == [1, 2]


def test_bytetrack_low_score_detection_continues_but_never_starts_a_track() -> None:
    frames = {t: [(box(t), 0.9)] for t in (1, 2, 3)}
    frames[4] = [(box(4), 0.3), (box(80), 0.3)]  # 0.3: between low (0.1) and high (0.5)
    rows, _ = track_detections(ByteTracker(), det_rows(frames), 4)
    assert rows[rows[:, 0] == 4][:, 1].tolist() == [1]
    assert rows[rows[:, 0] == 4][0, 2] == pytest.approx(4, abs=0.5)


@pytest.mark.parametrize(("frame_rate", "same_id"), [(30, True), (15, False)])
def test_bytetrack_lost_buffer_scales_with_frame_rate(frame_rate: int, same_id: bool) -> None:
    # a still object, unseen for 20 frames; buffer 30 frames at 30 fps = 15 frames at 15 fps
    frames = {t: [(box(0), 0.9)] for t in (1, 2, 3)}
    frames[24] = frames[25] = [(box(0), 0.9)]
    tracker = ByteTracker(ByteTrackConfig(track_buffer=30), frame_rate=frame_rate)
    rows, _ = track_detections(tracker, det_rows(frames), 25)
    # a new track is confirmed on its second frame: 25
    assert rows[rows[:, 0] == 25][:, 1].tolist() == [1 if same_id else 2]


def test_interpolation_fills_short_gaps_linearly() -> None:
    rows = np.array(
        [
            [1, 1, 0, 0, 10, 10, 0.9],
            [4, 1, 3, 6, 13, 10, 0.6],
            [1, 2, 50, 0, 10, 10, 0.9],
            [9, 2, 50, 0, 10, 10, 0.9],  # gap of 7 > 2: left alone
        ]
    )
    out = interpolate_gaps(rows, max_gap=2)
    np.testing.assert_allclose(
        out,
        [
            [1, 1, 0, 0, 10, 10, 0.9],
            [1, 2, 50, 0, 10, 10, 0.9],
            [2, 1, 1, 2, 11, 10, 0.6],
            [3, 1, 2, 4, 12, 10, 0.6],
            [4, 1, 3, 6, 13, 10, 0.6],
            [9, 2, 50, 0, 10, 10, 0.9],
        ],
    )
    np.testing.assert_array_equal(interpolate_gaps(rows, 0), rows)
