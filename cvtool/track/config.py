"""Tracker settings as plain dataclasses (no heavy imports: the CLI reads their defaults)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IouTrackerConfig:
    min_iou: float = 0.3
    max_lost: int = 5
    hungarian: bool = False


@dataclass(frozen=True)
class ByteTrackConfig:
    """ultralytics BYTETracker thresholds, defaults tuned on the MOT17 FRCNN public detections
    (see docs/track.md). `track_buffer` is in frames at 30 fps and scales with the frame rate."""

    track_high_thresh: float = 0.5
    track_low_thresh: float = 0.1
    new_track_thresh: float = 0.6
    track_buffer: int = 60
    match_thresh: float = 0.8
    fuse_score: bool = True
    detection_boxes: bool = True  # report the matched detection's box, not the Kalman state
