"""Tracker settings as plain dataclasses (no heavy imports: the CLI builds its options from them).

Each field is one setting: its name, type and default become a `track mot17` option and the
`help` in its metadata becomes that option's help; `setting()` declares such a field, with the
range of values that can work (a value outside it is a `ParameterError` naming the setting).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from cvtool.core.errors import check_range

DETECTOR_CONF = 0.1  # YOLO score threshold for tracking: confident boxes, not mAP's 0.001


UNIT = (0.0, 1.0)  # scores, IoUs and costs
COUNT = (0, None)  # frames


def setting(
    default: Any, help: str, off: str | None = None, bounds: tuple[Any, Any] | None = None
) -> Any:
    """A config field with its help text; `off` names the switch that turns a bool off
    (default: `no_<name>`); `bounds` are the lowest and highest values that work."""
    metadata: dict[str, Any] = {"help": help, "bounds": bounds}
    if off is not None:
        metadata["off"] = off
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class TrackerConfig:
    """Settings every tracker has; each tracker's config extends it."""

    min_det_score: float = setting(
        0.0, "Drop detections scoring below this before tracking.", bounds=UNIT
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.metadata.get("bounds") is not None:
                check_range(getattr(self, f.name), f.name, *f.metadata["bounds"])


@dataclass(frozen=True)
class IouTrackerConfig(TrackerConfig):
    min_iou: float = setting(
        0.3, "IoU a detection needs with a track's last box to continue it.", bounds=UNIT
    )
    max_lost: int = setting(5, "Frames a track survives without a match.", bounds=COUNT)
    hungarian: bool = setting(False, "Optimal (Hungarian) matching instead of greedy.")


@dataclass(frozen=True)
class ByteTrackConfig(TrackerConfig):
    """ultralytics BYTETracker thresholds, defaults tuned on the MOT17 FRCNN public detections
    (see docs/track.md). `track_buffer` is in frames at 30 fps and scales with the frame rate."""

    track_high_thresh: float = setting(0.5, "First-association score threshold.", bounds=UNIT)
    track_low_thresh: float = setting(0.1, "Lowest score used (second association).", bounds=UNIT)
    new_track_thresh: float = setting(0.6, "Score needed to start a track.", bounds=UNIT)
    track_buffer: int = setting(60, "Frames (at 30 fps) a lost track is kept.", bounds=COUNT)
    match_thresh: float = setting(0.8, "Max cost (1 - IoU) of a first-stage match.", bounds=UNIT)
    fuse_score: bool = setting(True, "Weigh IoU by detection score.")
    detection_boxes: bool = setting(
        True,
        "Report the matched detection's box instead of the Kalman-filtered one.",
        off="kalman_boxes",
    )
