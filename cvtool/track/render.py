"""Videos of tracker output: boxes coloured by track id, with the id drawn."""

from __future__ import annotations

from pathlib import Path

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


def render_sequence(seq: SeqInfo, rows: np.ndarray, path: Path) -> Path | None:
    """Write an mp4 of the frames present in `img1/` with `rows` drawn; None if no frames."""
    import cv2

    frames = seq.available_frames()
    if not frames:
        return None
    offsets = frame_offsets(rows, seq.length)
    writer = None
    with atomic_path(path) as tmp:
        try:
            for t in frames:
                image = cv2.imread(str(seq.frame_path(t)))
                if image is None:
                    raise CvtoolError(f"cannot read frame {seq.frame_path(t)}")
                if writer is None:
                    h, w = image.shape[:2]
                    fourcc = cv2.VideoWriter_fourcc(*"mp4v")
                    writer = cv2.VideoWriter(str(tmp), fourcc, float(seq.frame_rate), (w, h))
                    if not writer.isOpened():
                        raise CvtoolError(f"OpenCV cannot write mp4 video to {path}")
                _draw(image, rows[offsets[t - 1] : offsets[t]])
                writer.write(image)
        finally:
            if writer is not None:
                writer.release()
    return path


def _draw(image: np.ndarray, rows: np.ndarray) -> None:
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
