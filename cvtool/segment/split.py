"""The images and label masks of one split of a prepared segmentation dataset, checked."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cvtool.core.artifacts import DatasetManifest, read_split_list
from cvtool.core.errors import CvtoolError
from cvtool.core.layout import IMAGES_DIR, MASKS_DIR, mask_name


@dataclass(frozen=True)
class SplitItem:
    """One image of the split, its label mask and (in predictions mode) its predicted mask."""

    name: str
    image: Path
    mask: Path
    prediction: Path | None = None


@dataclass
class EvalSplit:
    data_dir: Path
    split: str
    manifest: DatasetManifest
    items: list[SplitItem]


def load_split(
    data_dir: str | os.PathLike[str],
    split: str,
    predictions: str | os.PathLike[str] | None = None,
    shard: tuple[int, int] | None = None,
) -> EvalSplit:
    """List a split's images and masks (and predicted masks), failing early on missing files."""
    data_dir = Path(data_dir)
    manifest = DatasetManifest.load(data_dir)
    if manifest.task != "segmentation":
        raise CvtoolError(
            f"{data_dir} is a {manifest.task} dataset; this evaluation needs segmentation masks"
        )
    names = read_split_list(data_dir, split)
    if shard is not None:
        names = names[shard[0] :: shard[1]]
    if not names:
        where = data_dir / "splits" / f"{split}.txt"
        raise CvtoolError(
            f"split {split!r} of {data_dir} is empty{' for this shard' if shard else ''} ({where})",
            "choose another --split, or re-run prepare with a non-zero fraction for it",
        )
    pred_dir = Path(predictions) if predictions is not None else None
    if pred_dir is not None and not pred_dir.is_dir():
        raise CvtoolError(f"predictions directory not found: {pred_dir}")
    items = [
        SplitItem(
            name=name,
            image=data_dir / IMAGES_DIR / name,
            mask=data_dir / MASKS_DIR / mask_name(name),
            prediction=pred_dir / mask_name(name) if pred_dir is not None else None,
        )
        for name in names
    ]
    for attr, what, hint in (
        ("image", "images", "re-run `cvtool prepare`"),
        ("mask", "label masks", "re-run `cvtool prepare`"),
        ("prediction", "predicted masks", "write one <stem>.png index mask per split image"),
    ):
        missing = [
            getattr(i, attr) for i in items if getattr(i, attr) and not getattr(i, attr).is_file()
        ]
        if missing:
            raise CvtoolError(
                f"{len(missing)} of {len(items)} {what} of split {split!r} are missing, "
                f"e.g. {missing[0]}",
                hint,
            )
    return EvalSplit(data_dir, split, manifest, items)
