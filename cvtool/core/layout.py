"""Reading the prepared dataset layout that `prepare` writes (see `cvtool.formats.layout`).

`images/<name>`, `masks/<stem>.png` (uint8 index PNG, 255 = ignore), `masks_colored/<stem>.png`,
`splits/<split>.txt` (segmentation) or `splits/<split>.csv` (classification), `dataset.json`.
"""

from __future__ import annotations

from pathlib import Path

from cvtool.core.artifacts import DatasetManifest
from cvtool.core.errors import CvtoolError

IMAGES_DIR = "images"
MASKS_DIR = "masks"
COLORED_DIR = "masks_colored"


def mask_name(image_name: str) -> str:
    """The mask file of an image: same stem, `.png`."""
    return f"{Path(image_name).stem}.png"


def load_manifest(root: Path, task: str) -> DatasetManifest:
    """The manifest of a prepared dataset dir, which must be of `task`."""
    manifest = DatasetManifest.load(root)
    if manifest.task != task:
        raise CvtoolError(f"{root / 'dataset.json'} is a {manifest.task} dataset, not {task}")
    return manifest
