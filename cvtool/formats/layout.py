"""Writing prepared dataset directories (segmentation: images, index masks, previews, manifest).

Layout: `images/<name>` (hard link or copy, original file name), `masks/<stem>.png` (uint8
index PNG, 255 = ignore), `masks_colored/<stem>.png` (RGB preview), `splits/<split>.txt`,
`dataset.json`. Every prepare command builds it inside `staged_output_dir`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.artifacts import IGNORE_INDEX, SPLITS, ClassInfo, DatasetManifest
from cvtool.core.errors import CvtoolError
from cvtool.core.images import link_or_copy, write_index_png, write_rgb_png
from cvtool.core.layout import COLORED_DIR, IMAGES_DIR, MASKS_DIR, mask_name
from cvtool.core.palette import colorize
from cvtool.formats.splits import write_split_lists

WHITE = (255, 255, 255)


@dataclass
class PreparedDataset:
    """What a prepare function wrote: the directory, its manifest and a JSON-able summary."""

    path: Path
    manifest: DatasetManifest
    summary: dict[str, Any] = field(default_factory=dict)


def check_unique_stems(names: Iterable[str], where: str) -> None:
    """Masks are keyed by stem, so `a.jpg` and `a.png` cannot both be prepared."""
    clashes = [stem for stem, n in Counter(Path(n).stem for n in names).items() if n > 1]
    if clashes:
        raise CvtoolError(
            f"{where}: {len(clashes)} image names share a stem (e.g. {clashes[0]!r}); masks are "
            "named by stem, so they would overwrite each other",
            "rename the images so their stems are unique",
        )


def write_sample(
    out_dir: Path,
    image_src: Path,
    image_name: str,
    mask: np.ndarray,
    colors: np.ndarray,
    ignore_color: tuple[int, int, int] = WHITE,
) -> np.ndarray:
    """Link the image, write its index mask and preview; return pixel counts per value (256)."""
    link_or_copy(image_src, out_dir / IMAGES_DIR / image_name)
    stem = mask_name(image_name)
    write_index_png(out_dir / MASKS_DIR / stem, mask)
    write_rgb_png(out_dir / COLORED_DIR / stem, colorize(mask, colors, ignore_color))
    return np.bincount(mask.ravel(), minlength=256)


def pixel_row(
    total: np.ndarray, class_names: Sequence[str], ignore_index: int = IGNORE_INDEX
) -> dict[str, int]:
    """`{class name: pixels, "ignore": pixels}` from 256-bin mask value counts."""
    row = {name: int(total[i]) for i, name in enumerate(class_names)}
    row["ignore"] = int(total[ignore_index])
    return row


def pixel_counts_per_split(
    splits: dict[str, list[str]],
    counts: dict[str, np.ndarray],
    class_names: Sequence[str],
) -> dict[str, dict[str, int]]:
    """Sum per-image value counts into `{split: {class name | "ignore": pixels}}`."""
    out: dict[str, dict[str, int]] = {}
    for split in SPLITS:
        total = np.zeros(256, dtype=np.int64)
        for name in splits.get(split, []):
            total += counts[name]
        out[split] = pixel_row(total, class_names)
    return out


def save_segmentation_dataset(
    out_dir: Path,
    classes: list[ClassInfo],
    splits: dict[str, list[str]],
    source: dict[str, Any],
    extra: dict[str, Any],
) -> DatasetManifest:
    """Write the split lists and `dataset.json` of a segmentation directory."""
    write_split_lists(out_dir, splits)
    manifest = DatasetManifest(
        task="segmentation",
        classes=classes,
        source=source,
        splits={split: len(splits.get(split, [])) for split in SPLITS},
        extra=extra,
    )
    manifest.save(out_dir)
    return manifest
