"""Run a tracker over MOTChallenge sequences and write `<out>/<tracker>/<sequence>.txt`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.artifacts import atomic_write_json, staged_output_dir
from cvtool.core.console import info
from cvtool.core.errors import CvtoolError
from cvtool.core.parallel import parallel_map
from cvtool.core.provenance import provenance
from cvtool.track.config import TrackerConfig
from cvtool.track.frames import SequenceFrames
from cvtool.track.interpolate import interpolate_gaps
from cvtool.track.mot import CONF, SeqInfo, frame_offsets, read_mot_txt, write_results
from cvtool.track.registry import Tracker, checked_config, make_tracker, tracker_spec

DETECTIONS_DIR = "detections"  # OUT/detections/<sequence>.txt when a detector ran first


def track_detections(
    tracker: Tracker,
    dets: np.ndarray,
    length: int,
    min_det_score: float = 0.0,
    frames: Callable[[int], np.ndarray] | None = None,
) -> tuple[np.ndarray, float]:
    """Feed frames 1..length to `tracker`; returns result rows `frame,id,x,y,w,h,score` and the
    seconds spent inside the tracker (reading and writing excluded).

    `frames(t)`: the image of frame t, for a tracker that takes it (`TrackerSpec.frames`).
    """
    dets = dets[dets[:, CONF] >= min_det_score]
    offsets = frame_offsets(dets, length)
    chunks: list[np.ndarray] = []
    seconds = 0.0
    for t in range(1, length + 1):
        frame = dets[offsets[t - 1] : offsets[t]]
        image = () if frames is None else (frames(t),)
        start = time.perf_counter()
        out = tracker.update(frame[:, 2:6], frame[:, CONF], *image)
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
        param="detections",
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


def _track_sequence(
    job: tuple[SeqInfo, np.ndarray],
    tracker: str,
    config: TrackerConfig,
    staging: Path,
    interpolate: int,
    render: bool,
) -> SequenceRun:
    """One sequence with a fresh tracker, written into `staging` (runs in a worker process when
    there are several: everything here is picklable)."""
    seq, dets = job
    frames = SequenceFrames(seq) if tracker_spec(tracker).frames else None
    rows, seconds = track_detections(
        make_tracker(tracker, config, seq.frame_rate),
        dets,
        seq.length,
        config.min_det_score,
        frames,
    )
    rows = interpolate_gaps(rows, interpolate)
    write_results(staging / f"{seq.name}.txt", rows)
    if render:
        from cvtool.track.render import render_sequence

        render_sequence(seq, rows, staging / "videos" / f"{seq.name}.mp4")
    return SequenceRun(
        name=seq.name,
        frames=seq.length,
        detections=int((dets[:, CONF] >= config.min_det_score).sum()),
        boxes=len(rows),
        tracks=len(np.unique(rows[:, 1])),
        tracker_seconds=seconds,
    )


def run_tracker(
    seqs: list[SeqInfo],
    tracker: str,
    out: Path,
    config: TrackerConfig | None = None,
    detections: Path | None = None,
    interpolate: int = 0,
    render: bool = False,
    overwrite: bool = False,
    workers: int = 1,
) -> TrackingRun:
    """Track each sequence with a fresh `tracker` and write `<out>/<tracker>/` atomically.

    `config`: the tracker's settings (see `cvtool.track.registry`; None = its defaults).
    `workers` processes track sequences in parallel (1 = in this process); every detection
    file is read and checked first, so a bad one fails before any tracking.
    The directory holds one MOTChallenge result file per sequence, `run.json` (settings and
    tracker frames per second per sequence) and, with `render`, `videos/<sequence>.mp4`.
    """
    config = checked_config(tracker, config)
    make_tracker(tracker, config, 30.0)  # a missing package or refused setting fails here, first
    run = TrackingRun(tracker=tracker, out=Path(out) / tracker, config=asdict(config))
    jobs = [
        (seq, read_mot_txt(detections_path(seq, detections), "detection file", length=seq.length))
        for seq in seqs
    ]
    with staged_output_dir(run.out, overwrite=overwrite) as staging:
        step = partial(
            _track_sequence,
            tracker=tracker,
            config=config,
            staging=staging,
            interpolate=interpolate,
            render=render,
        )
        progress = f"tracking ({tracker})"
        run.sequences = list(parallel_map(step, jobs, workers, progress, chunksize=1))
        atomic_write_json(
            staging / "run.json",
            {
                **run.to_dict(),
                "detections": str(detections) if detections else "public",
                "interpolate": interpolate,
                "root": str(seqs[0].path.parent) if seqs else None,
                **provenance("ultralytics", "lap", *filter(None, [tracker_spec(tracker).extra])),
            },
        )
    info(f"wrote {len(seqs)} result file(s) to {run.out}")
    return run
