"""Image and mask file I/O with clear errors: read, verify, write index PNGs atomically, link."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from cvtool.artifacts import atomic_path
from cvtool.errors import CvtoolError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})


def is_image_file(path: Path) -> bool:
    """A visible file whose extension is a known image format (case-insensitive)."""
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def open_image(path: str | os.PathLike[str], what: str = "image") -> Image.Image:
    """Open (header only) with a CvtoolError naming the file when missing or not an image."""
    path = Path(path)
    if not path.is_file():
        raise CvtoolError(f"{what} not found: {path}")
    try:
        return Image.open(path)
    except (UnidentifiedImageError, OSError) as e:
        raise CvtoolError(f"{what} {path} is not a readable image ({e})") from None


def image_size(path: str | os.PathLike[str], what: str = "image") -> tuple[int, int]:
    """`(width, height)` from the file header, without decoding the pixels."""
    with open_image(path, what) as im:
        return im.size


def load_pixels(path: str | os.PathLike[str], what: str = "image") -> Image.Image:
    """Open and fully decode, so truncated or corrupt files fail here with a clear error."""
    im = open_image(path, what)
    try:
        im.load()
    except (OSError, SyntaxError, ValueError) as e:
        im.close()
        raise CvtoolError(f"{what} {path} is corrupt or truncated ({e})") from None
    return im


def read_rgb(path: str | os.PathLike[str], what: str = "image") -> np.ndarray:
    """`(H, W, 3)` uint8."""
    with load_pixels(path, what) as im:
        return np.asarray(im.convert("RGB"))


def write_index_png(path: str | os.PathLike[str], mask: np.ndarray) -> None:
    """Write a `(H, W)` uint8 class-index mask as a mode "L" PNG, atomically."""
    if mask.dtype != np.uint8 or mask.ndim != 2:
        raise ValueError(f"index mask must be 2-D uint8, got {mask.dtype} {mask.shape}")
    with atomic_path(path) as tmp:
        Image.fromarray(mask, mode="L").save(tmp, format="PNG")


def write_rgb_png(path: str | os.PathLike[str], rgb: np.ndarray, compress_level: int = 1) -> None:
    """Write a `(H, W, 3)` uint8 image as PNG, atomically (fast compression: previews)."""
    with atomic_path(path) as tmp:
        Image.fromarray(rgb, mode="RGB").save(tmp, format="PNG", compress_level=compress_level)


def link_or_copy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    """Hard-link `src` to `dst` (same filesystem), else copy it; the parent dir is created."""
    src, dst = Path(src), Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except FileNotFoundError:
        raise CvtoolError(f"image not found: {src}") from None
    except OSError:
        shutil.copyfile(src, dst)
