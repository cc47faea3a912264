"""Detections from an ultralytics YOLO model on each sequence's `img1/`, in MOT det format."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cvtool.core.artifacts import atomic_write_text
from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.track.config import DETECTOR_CONF
from cvtool.track.mot import SeqInfo, format_results

if TYPE_CHECKING:
    from cvtool.detect.yolo import ImageBoxes, YoloOptions

PERSON = "person"


def detect_sequences(
    seqs: list[SeqInfo], weights: str | Path, out: Path, opts: YoloOptions | None = None
) -> Path:
    """Run the model on every frame in `img1/`; writes `out/<sequence>.txt` (person boxes when
    the model has a person class, else every box: `tracked_classes`).

    `weights`: a local `.pt` file, or a model `.yaml` (random weights); nothing is downloaded.
    `opts`: inference settings (default: score threshold `DETECTOR_CONF`).
    """
    from cvtool.detect.yolo import YoloOptions, load_yolo, predict_boxes

    opts = opts or YoloOptions(conf=DETECTOR_CONF)
    model = load_yolo(weights)
    keep = tracked_classes(model)
    for seq in seqs:
        frames = seq.available_frames()
        if not frames:
            raise CvtoolError(f"{seq.path / seq.im_dir} holds no frames to detect on")
        paths = [seq.frame_path(t) for t in frames]
        boxes, _ = predict_boxes(model, paths, opts, keep, f"detecting {seq.name}")
        rows = np.concatenate([_det_rows(t, b) for t, b in zip(frames, boxes, strict=True)])
        atomic_write_text(Path(out) / f"{seq.name}.txt", format_results(rows))
    return Path(out)


def tracked_classes(model: Any, names: Sequence[str] = ()) -> list[int] | None:
    """The model's class indices to track: those named, else person when the model has it;
    None means every class. An unknown name lists the model's classes."""
    by_name = {str(n): int(i) for i, n in model.names.items()}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ParameterError(
            f"the model has no class {', '.join(map(repr, unknown))}",
            "classes",
            f"its classes: {', '.join(list(by_name)[:20])}{', ...' if len(by_name) > 20 else ''}",
        )
    if names:
        return [by_name[n] for n in names]
    return [by_name[PERSON]] if PERSON in by_name else None


def _det_rows(frame: int, boxes: ImageBoxes) -> np.ndarray:
    """MOT det rows `frame, -1, x, y, w, h, score, -1, -1, -1`."""
    n = len(boxes.scores)
    return np.column_stack(
        [np.full(n, frame), -np.ones(n), boxes.xywh, boxes.scores, -np.ones((n, 3))]
    )
