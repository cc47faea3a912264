"""Video files frame by frame, with PyAV (FFmpeg): read RGB frames, write an H.264 mp4.

PyAV rather than `torchvision.io`: torchvision's video reader is deprecated and gone from recent
releases (and was itself built on PyAV or a source build of FFmpeg); PyAV decodes one frame at
a time (memory does not grow with the video's length), reports the frame rate, and encodes with
the FFmpeg its wheels ship, so reading and writing need one dependency.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.errors import CvtoolError
from cvtool.core.outputs import temp_file_beside

DEFAULT_FPS = Fraction(25)


def import_av() -> Any:
    try:
        import av
    except ImportError:
        raise CvtoolError("reading videos needs PyAV", "pip install av") from None
    return av


class VideoReader:
    """An opened video: `fps`, `frames` (as the container states it, 0 when unknown), `size`
    (width, height); iterate for `(H, W, 3)` uint8 RGB frames."""

    def __init__(self, container: Any, path: Path) -> None:
        self.container, self.path = container, path
        self.stream = container.streams.video[0]
        self.fps = Fraction(self.stream.average_rate or DEFAULT_FPS)
        self.frames = int(self.stream.frames or 0)
        self.size = (int(self.stream.width), int(self.stream.height))

    def __iter__(self) -> Iterator[np.ndarray]:
        av = import_av()
        try:
            for frame in self.container.decode(self.stream):
                yield frame.to_ndarray(format="rgb24")
        except av.error.FFmpegError as e:
            raise CvtoolError(f"video {self.path} is corrupt ({e})") from None


@contextmanager
def open_video(path: str | os.PathLike[str]) -> Iterator[VideoReader]:
    """Open a video for reading; CvtoolError naming the file when it is missing, not a video,
    or has no video stream."""
    av = import_av()
    path = Path(path)
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as e:
        raise CvtoolError(f"cannot open video {path} ({e})") from None
    try:
        if not container.streams.video:
            raise CvtoolError(f"{path} has no video stream")
        yield VideoReader(container, path)
    finally:
        container.close()


class VideoWriter:
    """Encode RGB frames to an mp4 (H.264 when available, else MPEG-4 Part 2) at `fps`.

    Frames are padded to even sizes (4:2:0 chroma needs them). The file appears at `path` only
    when `close()` succeeds; use it as a context manager."""

    def __init__(self, path: str | os.PathLike[str], fps: Fraction) -> None:
        self.path, self.fps = Path(path), fps
        self._tmp = temp_file_beside(self.path, ".mp4")
        self._container: Any = None
        self._stream: Any = None

    def write(self, frame: np.ndarray) -> None:
        av = import_av()
        h, w = frame.shape[:2]
        frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        if self._container is None:
            self._container = av.open(str(self._tmp), mode="w", format="mp4")
            codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
            self._stream = self._container.add_stream(codec, rate=self.fps)
            self._stream.width, self._stream.height = frame.shape[1], frame.shape[0]
            self._stream.pix_fmt = "yuv420p"
        video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
        for packet in self._stream.encode(video_frame):
            self._container.mux(packet)

    def close(self, ok: bool = True) -> None:
        """Flush and move the file into place (`ok`), or discard it."""
        if self._container is not None:
            if ok:
                for packet in self._stream.encode():
                    self._container.mux(packet)
            self._container.close()
        if ok and self._container is not None:
            os.replace(self._tmp, self.path)
        self._tmp.unlink(missing_ok=True)  # a failed video, or one without frames

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, kind: Any, *_: Any) -> None:
        self.close(ok=kind is None)
