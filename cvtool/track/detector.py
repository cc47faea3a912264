"""Detections from an ultralytics YOLO model on each sequence's `img1/`, in MOT det format."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cvtool.core.artifacts import atomic_write_text, check_replaceable, staged_output_dir
from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.track.config import DETECTOR_CONF
from cvtool.track.mot import SeqInfo, format_results

if TYPE_CHECKING:
    from cvtool.detect.yolo import ImageBoxes, YoloOptions

PERSON = "person"


def detect_sequences(
    seqs: list[SeqInfo],
    weights: str | Path,
    out: Path,
    opts: YoloOptions | None = None,
    overwrite: bool = False,
) -> Path:
    """Run the model on every frame in `img1/`; writes the folder `out` as one artifact
    (`staged_output_dir`), `<sequence>.txt` per sequence (person boxes when the model has a
    person class, else every box: `tracked_classes`).

    `weights`: a local `.pt` file, or a model `.yaml` (random weights); nothing is downloaded.
    `opts`: inference settings (default: score threshold `DETECTOR_CONF`).
    `overwrite`: replace an existing non-empty `out`.
    """
    from cvtool.detect.yolo import YoloOptions, load_yolo, predict_boxes

    out = Path(out)
    check_replaceable(out, overwrite)
    frames = {seq.name: seq.available_frames() for seq in seqs}
    for seq in seqs:
        if not frames[seq.name]:
            raise CvtoolError(f"{seq.path / seq.im_dir} holds no frames to detect on")
    opts = opts or YoloOptions(conf=DETECTOR_CONF)
    model = load_yolo(weights)
    keep = tracked_classes(model)
    with staged_output_dir(out, overwrite) as stage:
        for seq in seqs:
            paths = [seq.frame_path(t) for t in frames[seq.name]]
            boxes, _ = predict_boxes(model, paths, opts, keep, f"detecting {seq.name}")
            found = zip(frames[seq.name], boxes, strict=True)
            rows = np.concatenate([_det_rows(t, b) for t, b in found])
            atomic_write_text(stage / f"{seq.name}.txt", format_results(rows))
    return out


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
