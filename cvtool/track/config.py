"""Tracker settings as plain dataclasses (no heavy imports: the CLI builds its options from them).

Each field is one setting: its name, type and default become a `track mot17` option and the
`help` in its metadata becomes that option's help; `setting()` declares such a field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DETECTOR_CONF = 0.1  # YOLO score threshold for tracking: confident boxes, not mAP's 0.001


def setting(default: Any, help: str, off: str | None = None) -> Any:
    """A config field with its help text; `off` names the switch that turns a bool off
    (default: `no_<name>`)."""
    metadata = {"help": help} if off is None else {"help": help, "off": off}
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class TrackerConfig:
    """Settings every tracker has; each tracker's config extends it."""

    min_det_score: float = setting(0.0, "Drop detections scoring below this before tracking.")


@dataclass(frozen=True)
class IouTrackerConfig(TrackerConfig):
    min_iou: float = setting(0.3, "IoU a detection needs with a track's last box to continue it.")
    max_lost: int = setting(5, "Frames a track survives without a match.")
    hungarian: bool = setting(False, "Optimal (Hungarian) matching instead of greedy.")


@dataclass(frozen=True)
class ByteTrackConfig(TrackerConfig):
    """ultralytics BYTETracker thresholds, defaults tuned on the MOT17 FRCNN public detections
    (see docs/track.md). `track_buffer` is in frames at 30 fps and scales with the frame rate."""

    track_high_thresh: float = setting(0.5, "First-association score threshold.")
    track_low_thresh: float = setting(0.1, "Lowest score used (second association).")
    new_track_thresh: float = setting(0.6, "Score needed to start a track.")
    track_buffer: int = setting(60, "Frames (at 30 fps) a lost track is kept.")
    match_thresh: float = setting(0.8, "Max cost (1 - IoU) of a first-stage match.")
    fuse_score: bool = setting(True, "Weigh IoU by detection score.")
    detection_boxes: bool = setting(
        True,
        "Report the matched detection's box instead of the Kalman-filtered one.",
        off="kalman_boxes",
    )
