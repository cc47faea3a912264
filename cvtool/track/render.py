"""Videos of tracker output: boxes coloured by track id, with the id drawn."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from cvtool.core.palette import voc_colormap
from cvtool.core.video import VideoWriter
from cvtool.track.frames import read_bgr
from cvtool.track.mot import ID, SeqInfo, frame_offsets

_COLORS = voc_colormap(256)[1:]  # skip black


def id_color(track_id: int) -> tuple[int, int, int]:
    """A stable BGR colour per id."""
    r, g, b = (int(c) for c in _COLORS[int(track_id) % len(_COLORS)])
    return b, g, r


def video_rate(frame_rate: float) -> Fraction:
    """A frame rate as the exact fraction a video container stores (29.97 -> 2997/100)."""
    return Fraction(frame_rate).limit_denominator(1001)


def write_bgr(writer: VideoWriter, image: np.ndarray) -> None:
    """Append a BGR frame to a video (`VideoWriter` takes RGB)."""
    writer.write(np.ascontiguousarray(image[..., ::-1]))


def render_sequence(seq: SeqInfo, rows: np.ndarray, path: Path) -> Path | None:
    """Write an mp4 of the frames present in `img1/` with `rows` drawn; None if no frames."""
    frames = seq.available_frames()
    if not frames:
        return None
    offsets = frame_offsets(rows, seq.length)
    with VideoWriter(path, video_rate(seq.frame_rate)) as writer:
        for t in frames:
            image = read_bgr(seq.frame_path(t))
            draw_tracks(image, rows[offsets[t - 1] : offsets[t]])
            write_bgr(writer, image)
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
