"""What the stage functions return: the path they wrote and the stage's headline numbers.

Every result has `path` (the artifact to hand to the next stage) and `to_dict()` (JSON-able, as
the command line prints with `--json`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class _Result:
    def to_dict(self) -> dict[str, Any]:
        """The fields as plain JSON types (paths as strings)."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


@dataclass
class DatasetResult(_Result):
    """A prepared dataset directory: its task, class names and images per split."""

    path: Path
    task: str
    classes: list[str]
    splits: dict[str, int]
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass
class StatsResult(_Result):
    """Class distribution of a prepared dataset: `counts[split][class]` in `unit` (pixels or
    images), written to `csv` and the bar chart `plot` inside `path`."""

    path: Path
    csv: Path
    plot: Path
    task: str
    unit: str
    counts: dict[str, dict[str, int]]


@dataclass
class RunResult(_Result):
    """A training run dir and its best epoch (`best_metric`: val_miou or val_accuracy)."""

    path: Path
    epochs: int
    best_epoch: int
    best_metric: str
    best_value: float
    history: list[dict[str, Any]]


@dataclass
class EvalResult(_Result):
    """An eval dir: `headline` holds mIoU, pixel accuracy, ECE ... (segmentation) or accuracy,
    macro F1, ECE (classification); `metrics` is the full `metrics.json`."""

    path: Path
    task: str
    images: int
    headline: dict[str, float | None]
    metrics: dict[str, Any] = field(repr=False, default_factory=dict)


@dataclass
class ComparisonResult(_Result):
    """`comparison.csv` and `comparison.md` in `path`; one row per eval dir in `models`."""

    path: Path
    task: str
    models: list[dict[str, Any]]


@dataclass
class DetectResult(_Result):
    """A detect run dir holding `predictions.json` (COCO results format) and `run.json`, whose
    content is `run` (weights, options, class-to-category mapping, timings)."""

    path: Path
    predictions: Path
    images: int
    detections: int
    images_per_second: float | None
    run: dict[str, Any] = field(repr=False, default_factory=dict)


@dataclass
class DetectionEvalResult(_Result):
    """COCO mAP (AP, AP50, AP per scale), TIDE and calibration headline numbers."""

    path: Path
    headline: dict[str, Any]


@dataclass
class TrackResult(_Result):
    """`path` (`OUT/<tracker>`) holds one MOTChallenge result file per sequence; `config` is
    the tracker's settings, `sequences[name]` has frames, detections, boxes, tracks and tracker
    frames per second."""

    path: Path
    tracker: str
    config: dict[str, Any]
    sequences: dict[str, dict[str, Any]]


@dataclass
class VideoTrackResult(_Result):
    """A `track_video` output folder (`path`): `results` (MOTChallenge txt), `video` (the
    rendered mp4, None without rendering), frame and box counts, detector and tracker frames per
    second, and `tracks`, the per-track statistics summary (lengths, gaps; one row per track in
    `path/tracks.csv`)."""

    path: Path
    results: Path
    video: Path | None
    tracker: str
    config: dict[str, Any]
    frames: int
    frame_rate: float
    detections: int
    boxes: int
    detector_fps: float | None
    tracker_fps: float | None
    tracks: dict[str, Any]


@dataclass
class TrackingEvalResult(_Result):
    """`combined[tracker]` holds HOTA, MOTA, IDF1 ... over all `sequences`; `table` has them
    per sequence too (`table[tracker][sequence or "COMBINED"]`)."""

    path: Path
    sequences: list[str]
    combined: dict[str, dict[str, float]]
    table: dict[str, dict[str, dict[str, float]]] = field(repr=False, default_factory=dict)


@dataclass
class SequencesResult(_Result):
    """`info.json` and plots in `path`; one dict per sequence in `sequences`: frames, size,
    frame rate, images, and detection / ground-truth boxes per frame."""

    path: Path
    sequences: list[dict[str, Any]]


@dataclass
class WeightsResult(_Result):
    """A weights file (`path`) in the cache of `library` (`ultralytics` or `torchvision`);
    `skipped` when it was already there and verified."""

    path: Path
    name: str
    library: str
    url: str
    bytes: int
    skipped: bool


@dataclass
class PredictResult(_Result):
    """A prediction dir (`predict.json` lists what it holds): images and video frames
    predicted, the inputs skipped (`file`, `reason`) and the wall-clock seconds."""

    path: Path
    task: str
    images: int
    frames: int
    skipped: list[dict[str, str]]
    seconds: float


@dataclass
class ExportResult(_Result):
    """An exported model file; `dynamic_size` says whether its height and width are free
    (else it takes `input_size`); `max_abs_diff` is the largest logit difference from the
    PyTorch model in the parity checks (`checks`: input shape, difference)."""

    path: Path
    format: str
    task: str
    model: str
    dynamic_size: bool
    input_size: tuple[int, int]
    max_abs_diff: float
    checks: list[dict[str, Any]] = field(default_factory=list)
