"""Image and mask file I/O with clear errors: read, verify, write index PNGs atomically, link."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from cvtool.core.artifacts import atomic_path
from cvtool.core.errors import CvtoolError

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


def decoded_size(path: str | os.PathLike[str], what: str = "image") -> tuple[int, int]:
    """`(width, height)` after decoding every pixel, so a truncated or corrupt file is refused
    here, when a dataset is prepared, rather than when it is first trained on."""
    with load_pixels(path, what) as im:
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
    """`(H, W, 3)` uint8, writable."""
    with load_pixels(path, what) as im:
        return np.array(im.convert("RGB"))


def check_same_size(
    label: str | os.PathLike[str],
    label_hw: Sequence[int],
    image: str | os.PathLike[str],
    image_hw: Sequence[int],
    what: str = "label mask",
) -> None:
    """A CvtoolError naming both files unless a label's `(H, W)` is its image's."""
    if tuple(label_hw) != tuple(image_hw):
        raise CvtoolError(
            f"{what} {label} is {label_hw[1]}x{label_hw[0]} but its image {image} is "
            f"{image_hw[1]}x{image_hw[0]}"
        )


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


def read_rgb_chw(path: str | os.PathLike[str]) -> np.ndarray:
    """`(3, H, W)` uint8, the layout torchvision transforms take; no torch, so it is safe in
    `parallel_map` workers forked from a process running torch."""
    return np.ascontiguousarray(read_rgb(path).transpose(2, 0, 1))


def read_image(path: Path) -> Any:
    """An RGB image as a uint8 `(3, H, W)` tensor, a view of its `(H, W, 3)` pixels (decoded by
    Pillow, as everywhere in cvtool); CvtoolError naming the file if unreadable."""
    import torch

    if not path.is_file():
        raise CvtoolError(f"image not found: {path}", "re-run `cvtool prepare` for this dataset")
    return torch.from_numpy(read_rgb(path)).permute(2, 0, 1)


def read_index_png(path: str | os.PathLike[str], what: str = "mask") -> np.ndarray:
    """A single-channel (greyscale or palette) 8-bit PNG as its `(H, W)` uint8 indices."""
    with load_pixels(path, what) as im:
        if im.mode not in ("L", "P"):
            raise CvtoolError(
                f"{what} {path} is a {im.mode} image, not a single-channel class-index PNG"
            )
        return np.asarray(im, dtype=np.uint8)


def read_mask(path: str | os.PathLike[str], num_classes: int, ignore_index: int) -> np.ndarray:
    """A class-index mask as a uint8 `(H, W)` array, checked against the class count."""
    mask = read_index_png(path)
    bad = (mask >= num_classes) & (mask != ignore_index)
    if bad.any():
        raise CvtoolError(
            f"mask {path} contains class id {int(mask[bad].max())}, but the dataset defines "
            f"{num_classes} classes (ids 0..{num_classes - 1}, {ignore_index} = ignore)",
            "re-run `cvtool prepare` or fix the classes in dataset.json",
        )
    return mask
