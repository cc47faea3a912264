"""The trackers: name -> settings dataclass and factory, in one table.

Adding a tracker is one entry in `TRACKERS`: a config dataclass (extending `TrackerConfig`, see
`cvtool.track.config`) and a factory that builds a fresh tracker for one sequence. `track mot17`
derives its options and choices from this table, and the contract test runs every entry.

>>> import numpy as np
>>> tracker = make_tracker("iou", make_config("iou", min_iou=0.5), frame_rate=30.0)
>>> tracker.update(np.array([[10.0, 20.0, 30.0, 60.0]]), np.array([0.9]))  # id, x, y, w, h, score
array([[ 1. , 10. , 20. , 30. , 60. ,  0.9]])
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Protocol

from cvtool.core.errors import ParameterError
from cvtool.track.boxmot_config import (
    BoostTrackConfig,
    BotSortConfig,
    BoxmotByteTrackConfig,
    BoxmotConfig,
    DeepOcSortConfig,
    HybridSortConfig,
    OccluBoostConfig,
    OcSortConfig,
    SfSortConfig,
)
from cvtool.track.config import ByteTrackConfig, IouTrackerConfig, TrackerConfig

if TYPE_CHECKING:
    import numpy as np


class Tracker(Protocol):
    def update(self, boxes: np.ndarray, scores: np.ndarray, *frame: np.ndarray) -> np.ndarray:
        """(N, 4) `x, y, w, h` boxes and (N,) scores -> (M, 6) rows `id, x, y, w, h, score`.
        A tracker registered with `frames=True` also takes the frame (H, W, 3 BGR uint8)."""
        ...


@dataclass(frozen=True)
class TrackerSpec:
    """`factory(config, frame_rate)` returns a fresh tracker whose ids start at 1.

    `frames`: its `update` takes the frame too. `extra`: the optional package it needs (the
    name of the cvtool extra that installs it), None when the core install has all it needs.
    """

    config: type[TrackerConfig]
    factory: Callable[[Any, float], Tracker]
    summary: str
    frames: bool = False
    extra: str | None = None

    def available(self) -> bool:
        """Whether the package it needs is installed."""
        return self.extra is None or importlib.util.find_spec(self.extra) is not None


def _iou_tracker(config: IouTrackerConfig, frame_rate: float) -> Tracker:
    from cvtool.track.iou_tracker import IouTracker

    return IouTracker(config)


def _bytetrack(config: ByteTrackConfig, frame_rate: float) -> Tracker:
    from cvtool.track.bytetrack import ByteTracker

    return ByteTracker(config, frame_rate=frame_rate)


def _boxmot(name: str, config: type[BoxmotConfig], summary: str) -> TrackerSpec:
    """A registry entry for a motion-only boxmot tracker (the `boxmot` extra)."""

    def factory(settings: BoxmotConfig, frame_rate: float) -> Tracker:
        from cvtool.track.boxmot_tracker import BoxmotTracker

        return BoxmotTracker(name, settings, frame_rate)

    frames = config.BOXMOT_CLASS not in ("OcSort", "ByteTrack")  # these never look at the frame
    return TrackerSpec(config, factory, f"{summary} (boxmot extra)", frames=frames, extra="boxmot")


# The boxmot trackers that run without appearance weights: name, settings, summary.
_BOXMOT_TRACKERS = (
    ("ocsort", OcSortConfig, "OC-SORT, observation-centric Kalman recovery"),
    ("botsort", BotSortConfig, "BoT-SORT without ReID, camera motion compensated"),
    ("boosttrack", BoostTrackConfig, "BoostTrack without ReID, boosted scores"),
    ("deepocsort", DeepOcSortConfig, "Deep OC-SORT without ReID: OC-SORT + CMC"),
    ("hybridsort", HybridSortConfig, "Hybrid-SORT without ReID, confidence cues"),
    ("occluboost", OccluBoostConfig, "OccluBoost without ReID, track confirmation"),
    ("sfsort", SfSortConfig, "SFSORT, matching without a motion model"),
    ("boxmot-bytetrack", BoxmotByteTrackConfig, "boxmot's ByteTrack"),
)

TRACKERS: dict[str, TrackerSpec] = {
    "iou": TrackerSpec(IouTrackerConfig, _iou_tracker, "IoU matching only (the naive baseline)"),
    "bytetrack": TrackerSpec(
        ByteTrackConfig, _bytetrack, "ultralytics BYTETracker (Kalman motion, two-stage matching)"
    ),
    **{entry[0]: _boxmot(*entry) for entry in _BOXMOT_TRACKERS},
}


def tracker_spec(name: str) -> TrackerSpec:
    """The registry entry for `name`; an unknown name lists the registered ones."""
    try:
        return TRACKERS[name]
    except KeyError:
        raise ParameterError(
            f"unknown tracker {name!r}; choose one of: {', '.join(TRACKERS)}", "tracker"
        ) from None


def make_config(name: str, **settings: Any) -> TrackerConfig:
    """`name`'s config with its defaults, overridden by `settings`; a setting the tracker does
    not have is a `ParameterError` naming it."""
    config_cls = tracker_spec(name).config
    known = {f.name for f in fields(config_cls)}
    for key in settings:
        if key not in known:
            raise ParameterError(
                f"{key} is not a setting of the {name} tracker",
                key,
                f"its settings: {', '.join(sorted(known))}",
            )
    return config_cls(**settings)


def checked_config(name: str, config: TrackerConfig | None = None) -> TrackerConfig:
    """`config` if it is `name`'s config type; None means `name`'s defaults."""
    config_cls = tracker_spec(name).config
    if config is None:
        return config_cls()
    if not isinstance(config, config_cls):
        raise ParameterError(
            f"the {name} tracker takes a {config_cls.__name__}, not a {type(config).__name__}",
            "config",
        )
    return config


def make_tracker(name: str, config: TrackerConfig | None, frame_rate: float) -> Tracker:
    """A fresh tracker (ids from 1) for one sequence; `config` None means the defaults."""
    return tracker_spec(name).factory(checked_config(name, config), frame_rate)
