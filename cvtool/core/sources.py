"""What a model is applied to: an image, a folder, a glob pattern or a video file.

`resolve_sources` lists the inputs once, in a stable order, each with the name its outputs
take (the path relative to the folder or the pattern's fixed prefix, without the suffix), so
`photos/a.jpg` gives `masks/a.png`. `read_image_or_reason` decodes an image in a worker
process and returns the reason instead of raising, so one unreadable file is skipped and listed
rather than ending the run.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cvtool.core.errors import CvtoolError
from cvtool.core.images import IMAGE_EXTENSIONS, is_image_file, read_rgb_chw

VIDEO_EXTENSIONS = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"})
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class SourceItem:
    """One input file and the name (relative, no suffix, `/`-separated) of its outputs."""

    path: Path
    name: str

    def output(self, suffix: str) -> str:
        """The relative output file for this input, e.g. `sub/a.png`."""
        return f"{self.name}{suffix}"


@dataclass
class Sources:
    """The images and videos of one `source` argument, in sorted order."""

    source: str
    images: list[SourceItem] = field(default_factory=list)
    videos: list[SourceItem] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images) + len(self.videos)


def is_video_file(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS and not path.name.startswith(".")


def _kinds() -> str:
    images = ", ".join(sorted(IMAGE_EXTENSIONS))
    return f"images ({images}) or videos ({', '.join(sorted(VIDEO_EXTENSIONS))})"


def _glob_root(pattern: str) -> Path:
    """The folder part of `pattern` before its first wildcard."""
    parts = Path(pattern).parts
    wild = next(i for i, part in enumerate(parts) if _GLOB_CHARS & set(part))
    return Path(*parts[:wild]) if wild else Path(".")


def resolve_sources(source: str | os.PathLike[str]) -> Sources:
    """The images and videos `source` names: one file, the files directly in a folder, or the
    files a glob pattern matches (`**` recurses). Raises CvtoolError when there are none, when
    a file is of an unknown kind, or when two inputs would write the same output name."""
    text = str(source)
    path = Path(text)
    if path.is_file():
        root, files = path.parent, [path]
        if not (is_image_file(path) or is_video_file(path)):
            raise CvtoolError(
                f"{path} is neither an image nor a video (by its extension)",
                f"pass {_kinds()}, a folder of them or a glob pattern",
                param="source",
            )
    elif path.is_dir():
        root, files = path, sorted(p for p in path.iterdir() if p.is_file())
    elif _GLOB_CHARS & set(text):
        root = _glob_root(text)
        files = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
    else:
        raise CvtoolError(f"source not found: {path}", param="source")
    found = Sources(text)
    for file in files:
        relative = file.relative_to(root) if file.is_relative_to(root) else Path(file.name)
        item = SourceItem(file, relative.with_suffix("").as_posix())
        if is_image_file(file):
            found.images.append(item)
        elif is_video_file(file):
            found.videos.append(item)
    if not len(found):
        raise CvtoolError(
            f"no images or videos in {text}", f"pass {_kinds()}, or a folder of them", "source"
        )
    _check_unique([*found.images, *found.videos])
    return found


def _check_unique(items: Sequence[SourceItem]) -> None:
    by_name: dict[str, Path] = {}
    for item in items:
        other = by_name.setdefault(item.name, item.path)
        if other != item.path:
            raise CvtoolError(
                f"{other} and {item.path} would write the same outputs ({item.name}.*)",
                "rename one of them, or predict them separately",
                param="source",
            )


def read_image_or_reason(item: SourceItem) -> np.ndarray | str:
    """`(3, H, W)` uint8 pixels of an image, or why it cannot be read (for `parallel_map`
    workers: no torch)."""
    try:
        return read_rgb_chw(item.path)
    except CvtoolError as e:
        return e.message
