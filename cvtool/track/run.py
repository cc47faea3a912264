"""Run a tracker over MOTChallenge sequences and write `<out>/<tracker>/<sequence>.txt`."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from cvtool.core.artifacts import atomic_write_json, invocation, staged_output_dir, utc_now
from cvtool.core.console import console, track
from cvtool.core.errors import CvtoolError
from cvtool.track.bytetrack import ByteTracker
from cvtool.track.config import ByteTrackConfig, IouTrackerConfig
from cvtool.track.interpolate import interpolate_gaps
from cvtool.track.iou_tracker import IouTracker
from cvtool.track.mot import CONF, SeqInfo, frame_offsets, read_mot_txt, write_results

TRACKER_CONFIGS: dict[str, type] = {"iou": IouTrackerConfig, "bytetrack": ByteTrackConfig}
DETECTIONS_DIR = "detections"  # OUT/detections/<sequence>.txt from `--detector yolo`


class Tracker(Protocol):
    def update(self, boxes: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """(N, 4) `x, y, w, h` boxes and (N,) scores -> (M, 6) rows `id, x, y, w, h, score`."""
        ...


def make_tracker(name: str, config: Any, frame_rate: float) -> Tracker:
    """A fresh tracker (ids from 1) for one sequence."""
    if name == "iou":
        return IouTracker(config)
    if name == "bytetrack":
        return ByteTracker(config, frame_rate=frame_rate)
    raise CvtoolError(f"unknown tracker {name!r}", f"choose one of: {', '.join(TRACKER_CONFIGS)}")


def track_detections(
    tracker: Tracker, dets: np.ndarray, length: int, min_conf: float = 0.0
) -> tuple[np.ndarray, float]:
    """Feed frames 1..length to `tracker`; returns result rows `frame,id,x,y,w,h,score` and the
    seconds spent inside the tracker (reading and writing excluded)."""
    dets = dets[dets[:, CONF] >= min_conf]
    offsets = frame_offsets(dets, length)
    chunks: list[np.ndarray] = []
    seconds = 0.0
    for t in range(1, length + 1):
        frame = dets[offsets[t - 1] : offsets[t]]
        start = time.perf_counter()
        out = tracker.update(frame[:, 2:6], frame[:, CONF])
        seconds += time.perf_counter() - start
        if len(out):
            chunks.append(np.column_stack([np.full(len(out), t), out]))
    rows = np.concatenate(chunks) if chunks else np.empty((0, 7))
    return rows, seconds


def detections_path(seq: SeqInfo, detections: Path | None) -> Path:
    """Public detections (`det/det.txt`) or `DIR/<seq>.txt` / `DIR/<seq>/det/det.txt`."""
    if detections is None:
        return seq.det_path
    for candidate in (detections / f"{seq.name}.txt", detections / seq.name / "det" / "det.txt"):
        if candidate.is_file():
            return candidate
    raise CvtoolError(
        f"no detections for {seq.name} in {detections}",
        f"expected {detections / (seq.name + '.txt')} (MOT det format)",
    )


@dataclass
class SequenceRun:
    name: str
    frames: int
    detections: int
    boxes: int
    tracks: int
    tracker_seconds: float

    @property
    def fps(self) -> float:
        return self.frames / self.tracker_seconds if self.tracker_seconds > 0 else float("inf")


@dataclass
class TrackingRun:
    tracker: str
    out: Path
    config: dict[str, Any]
    sequences: list[SequenceRun] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tracker": self.tracker,
            "config": self.config,
            "sequences": {s.name: {**asdict(s), "fps": s.fps} for s in self.sequences},
        }


def run_tracker(
    seqs: list[SeqInfo],
    tracker: str,
    out: Path,
    config: Any = None,
    detections: Path | None = None,
    min_conf: float = 0.0,
    interpolate: int = 0,
    render: bool = False,
    overwrite: bool = False,
) -> TrackingRun:
    """Track each sequence with a fresh `tracker` and write `<out>/<tracker>/` atomically.

    The directory holds one MOTChallenge result file per sequence, `run.json` (settings and
    tracker frames per second per sequence) and, with `render`, `videos/<sequence>.mp4`.
    """
    config = config if config is not None else TRACKER_CONFIGS[tracker]()
    run = TrackingRun(tracker=tracker, out=Path(out) / tracker, config=asdict(config))
    with staged_output_dir(run.out, overwrite=overwrite) as staging:
        for seq in track(seqs, f"tracking ({tracker})"):
            det_file = detections_path(seq, detections)
            dets = read_mot_txt(det_file, "detection file", min_columns=7, length=seq.length)
            rows, seconds = track_detections(
                make_tracker(tracker, config, seq.frame_rate), dets, seq.length, min_conf
            )
            rows = interpolate_gaps(rows, interpolate)
            write_results(staging / f"{seq.name}.txt", rows)
            if render:
                from cvtool.track.render import render_sequence

                render_sequence(seq, rows, staging / "videos" / f"{seq.name}.mp4")
            result = SequenceRun(
                name=seq.name,
                frames=seq.length,
                detections=int((dets[:, CONF] >= min_conf).sum()),
                boxes=len(rows),
                tracks=len(np.unique(rows[:, 1])),
                tracker_seconds=seconds,
            )
            run.sequences.append(result)
        atomic_write_json(
            staging / "run.json",
            {
                **run.to_dict(),
                "detections": str(detections) if detections else "public",
                "min_conf": min_conf,
                "interpolate": interpolate,
                "root": str(seqs[0].path.parent) if seqs else None,
                "command": invocation(),
                "created": utc_now(),
            },
        )
    console.print(f"wrote {len(seqs)} result file(s) to {run.out}")
    return run
