"""Frames as BGR images: a MOT sequence's frame by number, and the frames of a video file or an
image folder in order.

Videos are decoded with PyAV through `cvtool.core.video` (one frame at a time, so memory does
not grow with the video; why PyAV: see that module). Frames are handed on as BGR, the order
OpenCV, ultralytics and boxmot take arrays in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cvtool.core.errors import CvtoolError
from cvtool.track.mot import SeqInfo


def read_bgr(path: Path) -> np.ndarray:
    """An image file as an (H, W, 3) BGR uint8 array."""
    import cv2

    image = cv2.imread(str(path))
    if image is None:
        raise CvtoolError(f"cannot read image {path}", "is it a valid image file?")
    return image


class SequenceFrames:
    """Frame `t` of a MOT sequence for trackers that look at the image: the file in `img1/` when
    it exists, else a black frame of the sequence size (camera-motion compensation then finds
    no motion)."""

    def __init__(self, seq: SeqInfo) -> None:
        self.seq = seq
        self.present = set(seq.available_frames())
        width, height = seq.width, seq.height
        if width is None or height is None:
            if not self.present:
                raise CvtoolError(
                    f"{seq.path}: the frame size is unknown and img1/ holds no frames",
                    "add imWidth and imHeight to seqinfo.ini",
                )
            height, width = read_bgr(seq.frame_path(min(self.present))).shape[:2]
        self.blank = np.zeros((height, width, 3), np.uint8)

    def __call__(self, t: int) -> np.ndarray:
        return read_bgr(self.seq.frame_path(t)) if t in self.present else self.blank


@dataclass
class FrameStream:
    """The frames of a video or an image folder. `frame_rate` is None when the source has none
    (image folders); `count` is None when the container does not say."""

    name: str
    frames: Iterator[np.ndarray]
    frame_rate: float | None
    count: int | None


@contextmanager
def open_frames(source: Path) -> Iterator[FrameStream]:
    """The frames of a video file, or of the images of a folder sorted by name."""
    from cvtool.core.video import open_video

    source = Path(source)
    if source.is_dir():
        yield _folder_frames(source)
    elif source.is_file():
        with open_video(source) as reader:
            frames = (np.ascontiguousarray(rgb[..., ::-1]) for rgb in reader)
            yield FrameStream(source.stem, frames, float(reader.fps), reader.frames or None)
    else:
        raise CvtoolError(f"video or image folder not found: {source}", param="source")


def _folder_frames(folder: Path) -> FrameStream:
    from cvtool.detect.yolo import list_images

    paths = [entry.path for entry in list_images(folder, None)[0]]

    def frames() -> Iterator[np.ndarray]:
        size = None
        for path in paths:
            image = read_bgr(path)
            if size is None:
                size = image.shape
            elif image.shape != size:
                raise CvtoolError(
                    f"{path} is {image.shape[1]}x{image.shape[0]}, the first image of {folder} "
                    f"is {size[1]}x{size[0]}",
                    "every frame of a sequence must have the same size",
                )
            yield image

    return FrameStream(folder.name, frames(), None, len(paths))
