"""Reading the prepared dataset layout that `prepare` writes (see `cvtool.formats.layout`).

`images/<name>`, `masks/<stem>.png` (uint8 index PNG, 255 = ignore), `masks_colored/<stem>.png`,
`splits/<split>.txt` (segmentation: one image name per line) or `splits/<split>.csv`
(classification: `path,label`), `dataset.json`. One reader per split file kind lives here.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

from cvtool.core.artifacts import DATASET_MANIFEST, DatasetManifest
from cvtool.core.errors import CvtoolError

IMAGES_DIR = "images"
MASKS_DIR = "masks"
COLORED_DIR = "masks_colored"
SPLITS_DIR = "splits"
PREPARE_HINT = {
    "segmentation": "prepare one with `cvtool prepare coco`, `camvid` or `voc`",
    "classification": "prepare one with `cvtool prepare folder`",
}


def dataset_parts(root: str | os.PathLike[str]) -> list[Path]:
    """What later stages read from a prepared dataset dir, which no output may touch (an output
    beside them, such as `DIR/stats`, is fine)."""
    root = Path(root)
    return [root / DATASET_MANIFEST, root / IMAGES_DIR, root / MASKS_DIR, root / SPLITS_DIR]


def mask_name(image_name: str) -> str:
    """The mask file of an image: same stem, `.png`."""
    return f"{Path(image_name).stem}.png"


def load_manifest(root: str | os.PathLike[str], task: str) -> DatasetManifest:
    """The manifest of a prepared dataset dir, which must be of `task`."""
    root = Path(root)
    manifest = DatasetManifest.load(root)
    if manifest.task != task:
        raise CvtoolError(
            f"{root / 'dataset.json'} is a {manifest.task} dataset, not {task}",
            PREPARE_HINT.get(task),
        )
    return manifest


def split_path(root: str | os.PathLike[str], split: str, suffix: str) -> Path:
    """`splits/<split><suffix>`, which must exist."""
    path = Path(root) / SPLITS_DIR / f"{split}{suffix}"
    if not path.is_file():
        raise CvtoolError(f"split {split!r} not found: {path}")
    return path


def read_split_list(root: str | os.PathLike[str], split: str) -> list[str]:
    """Image file names of a segmentation split (`splits/<split>.txt`, one per line).

    Each name is a file in `images/`; its mask is `masks/<stem>.png`.
    """
    text = split_path(root, split, ".txt").read_text()
    return [line.strip() for line in text.splitlines() if line.strip()]


def read_split_csv(
    root: str | os.PathLike[str], split: str, class_names: Sequence[str]
) -> tuple[list[str], list[int]]:
    """Image paths (relative to `root`) and class ids of a classification split
    (`splits/<split>.csv` with a `path,label` header); errors name the line of an unknown
    label."""
    path = split_path(root, split, ".csv")
    ids = {name: i for i, name in enumerate(class_names)}
    paths, labels = [], []
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or not {"path", "label"} <= set(reader.fieldnames):
            raise CvtoolError(f"{path} must have a header with columns path,label")
        for line, row in enumerate(reader, start=2):
            if row["label"] not in ids:
                raise CvtoolError(
                    f"{path}, line {line}: label {row['label']!r} is not a class of the dataset "
                    f"({', '.join(ids)})"
                )
            paths.append(row["path"])
            labels.append(ids[row["label"]])
    return paths, labels


def require_nonempty(
    names: Sequence[str], root: Path, split: str, suffix: str, part: str = ""
) -> None:
    """A CvtoolError naming the split file when a split (or `part` of it) lists nothing."""
    if not names:
        where = root / SPLITS_DIR / f"{split}{suffix}"
        raise CvtoolError(
            f"split {split!r} of {root} is empty{part} ({where})",
            "choose another split, or prepare the dataset with a non-zero fraction for it",
        )


def require_files(paths: Sequence[Path], what: str, split: str, hint: str) -> None:
    """A CvtoolError counting the files of a split that are missing, naming the first."""
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise CvtoolError(
            f"{len(missing)} of {len(paths)} {what} of split {split!r} are missing, "
            f"e.g. {missing[0]}",
            hint,
        )
