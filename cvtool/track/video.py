"""`track video`: a YOLO detector and a tracker over the frames of a video file or image folder.

Frames are decoded one at a time (`cvtool.track.frames`), detected `opts.batch` at a time and fed
to the tracker in order, so memory does not grow with the video. The output folder holds
`<name>.txt` (MOTChallenge results, frames numbered from 1), `<name>.mp4` (the frames with the
tracks drawn), `tracks.csv` (per-track statistics, `cvtool.track.stats`) and `run.json`.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.artifacts import atomic_write_json, atomic_write_text, staged_output_dir
from cvtool.core.console import make_progress, note
from cvtool.core.errors import CvtoolError
from cvtool.core.provenance import provenance
from cvtool.core.video import VideoWriter
from cvtool.detect.yolo import YoloOptions, load_yolo, predict_chunk
from cvtool.track.config import DETECTOR_CONF, TrackerConfig
from cvtool.track.detector import tracked_classes
from cvtool.track.frames import open_frames
from cvtool.track.mot import write_results
from cvtool.track.registry import checked_config, make_tracker, tracker_spec
from cvtool.track.render import draw_tracks, video_rate, write_bgr
from cvtool.track.stats import stats_csv, summarize, track_statistics

DEFAULT_FRAME_RATE = 30.0  # for image folders, which carry none


@dataclass
class VideoRun:
    """What `track_video` wrote and measured; `tracks` is the per-track statistics summary."""

    out: Path
    source: Path
    tracker: str
    config: dict[str, Any]
    frame_rate: float
    frames: int = 0
    detections: int = 0
    boxes: int = 0
    detector_seconds: float = 0.0
    tracker_seconds: float = 0.0
    tracks: dict[str, Any] = field(default_factory=dict)
    results: Path | None = None
    video: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["detector_fps"] = self.frames / self.detector_seconds if self.detector_seconds else None
        out["tracker_fps"] = self.frames / self.tracker_seconds if self.tracker_seconds else None
        return out


def track_video(
    source: Path,
    weights: str | Path,
    out: Path,
    tracker: str = "bytetrack",
    config: TrackerConfig | None = None,
    opts: YoloOptions | None = None,
    classes: list[str] | None = None,
    frame_rate: float | None = None,
    render: bool = True,
    overwrite: bool = False,
) -> VideoRun:
    """Detect and track every frame of `source` (a video file or a folder of images) and write
    the output folder `out` atomically (see the module docstring).

    `weights`: a local YOLO `.pt` or a model `.yaml`; `opts`: its inference settings (default:
    score threshold `DETECTOR_CONF`); `classes`: class names to track (default: person when the
    model has it, else all); `frame_rate`: overrides the video's (image folders: 30).
    """
    config = checked_config(tracker, config)
    opts = opts or YoloOptions(conf=DETECTOR_CONF)
    uses_frames = tracker_spec(tracker).frames
    with ExitStack() as stack:
        stream = stack.enter_context(open_frames(source))
        if frame_rate is None and stream.frame_rate is None:
            note(f"{source} has no frame rate; {DEFAULT_FRAME_RATE:g} assumed")
        rate = frame_rate or stream.frame_rate or DEFAULT_FRAME_RATE
        online = make_tracker(tracker, config, rate)  # before the model: it fails faster
        model = load_yolo(weights)
        keep = tracked_classes(model, classes or ())
        run = VideoRun(Path(out), Path(source), tracker, asdict(config), rate)
        staging = stack.enter_context(staged_output_dir(out, overwrite))
        writer = None
        if render:
            run.video = Path(out) / f"{stream.name}.mp4"
            writer = stack.enter_context(VideoWriter(staging / run.video.name, video_rate(rate)))
        progress = stack.enter_context(make_progress())
        task = progress.add_task(f"tracking {stream.name}", total=stream.count, status="")
        chunks: list[np.ndarray] = []
        frames = iter(stream.frames)
        while batch := list(islice(frames, opts.batch)):
            found, seconds = predict_chunk(model, batch, opts, keep)
            run.detector_seconds += seconds
            for image, boxes in zip(batch, found, strict=True):
                run.frames += 1
                rows = _track_frame(online, run, image if uses_frames else None, boxes, config)
                chunks.append(rows)
                if writer is not None:
                    canvas = image.copy()  # the tracker may keep the frame for motion estimates
                    draw_tracks(canvas, rows)
                    write_bgr(writer, canvas)
            progress.advance(task, len(batch))
        if not chunks:
            raise CvtoolError(f"{source} holds no frames", param="source")
        rows = np.concatenate(chunks)
        run.results = Path(out) / f"{stream.name}.txt"
        write_results(staging / run.results.name, rows)
        stats = track_statistics(rows)
        atomic_write_text(staging / "tracks.csv", stats_csv(stats))
        run.boxes, run.tracks = len(rows), summarize(stats, rate)
        manifest = {
            **run.to_dict(),
            "weights": str(weights),
            "detector": vars(opts),
            "classes": None if keep is None else [model.names[i] for i in keep],
            **provenance(
                "ultralytics", "torch", "av", *filter(None, [tracker_spec(tracker).extra])
            ),
        }
        atomic_write_json(staging / "run.json", manifest)
    return run


def _track_frame(
    online: Any, run: VideoRun, image: np.ndarray | None, boxes: Any, config: TrackerConfig
) -> np.ndarray:
    """One frame's detections through the tracker: rows `frame, id, x, y, w, h, score`."""
    kept = boxes.scores >= config.min_det_score
    run.detections += int(kept.sum())
    tic = time.perf_counter()
    out = online.update(boxes.xywh[kept], boxes.scores[kept], *([] if image is None else [image]))
    run.tracker_seconds += time.perf_counter() - tic
    return np.column_stack([np.full(len(out), run.frames), out]) if len(out) else np.empty((0, 7))
