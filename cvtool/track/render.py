"""Videos of tracker output: boxes coloured by track id, with the id drawn."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.artifacts import atomic_path
from cvtool.core.errors import CvtoolError
from cvtool.core.palette import voc_colormap
from cvtool.track.mot import ID, SeqInfo, frame_offsets

_COLORS = voc_colormap(256)[1:]  # skip black


def id_color(track_id: int) -> tuple[int, int, int]:
    """A stable BGR colour per id."""
    r, g, b = (int(c) for c in _COLORS[int(track_id) % len(_COLORS)])
    return b, g, r


@contextmanager
def video_writer(path: Path, frame_rate: float) -> Iterator[Callable[[np.ndarray], None]]:
    """`write(image)` appends a BGR frame to the mp4 `path` (OpenCV `mp4v`), which appears only
    when the block completes. The size is the first frame's."""
    import cv2

    writer: Any = None

    def write(image: np.ndarray) -> None:
        nonlocal writer
        if writer is None:
            h, w = image.shape[:2]
            writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), frame_rate, (w, h))
            if not writer.isOpened():
                raise CvtoolError(f"OpenCV cannot write mp4 video to {path}")
        writer.write(image)

    with atomic_path(path) as tmp:
        try:
            yield write
        finally:
            if writer is not None:
                writer.release()


def render_sequence(seq: SeqInfo, rows: np.ndarray, path: Path) -> Path | None:
    """Write an mp4 of the frames present in `img1/` with `rows` drawn; None if no frames."""
    import cv2

    frames = seq.available_frames()
    if not frames:
        return None
    offsets = frame_offsets(rows, seq.length)
    with video_writer(path, float(seq.frame_rate)) as write:
        for t in frames:
            image = cv2.imread(str(seq.frame_path(t)))
            if image is None:
                raise CvtoolError(f"cannot read frame {seq.frame_path(t)}")
            draw_tracks(image, rows[offsets[t - 1] : offsets[t]])
            write(image)
    return path


def draw_tracks(image: np.ndarray, rows: np.ndarray) -> None:
    """Draw result rows `frame, id, x, y, w, h, ...` of one frame onto the BGR `image`."""
    import cv2

    thickness = max(2, image.shape[0] // 360)  # 3 px at 1080p
    scale = max(0.5, image.shape[0] / 900)
    for row in rows:
        x, y, w, h = (round(v) for v in row[2:6])
        color = id_color(int(row[ID]))
        cv2.rectangle(image, (x, y), (x + w, y + h), color, thickness)
        text_y = max(round(30 * scale), y - 2 * thickness)
        cv2.putText(
            image, str(int(row[ID])), (x, text_y), cv2.FONT_HERSHEY_SIMPLEX, scale, color, thickness
        )
