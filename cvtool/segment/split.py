"""The images and label masks of one split of a prepared segmentation dataset, checked."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cvtool.core.artifacts import DatasetManifest
from cvtool.core.errors import CvtoolError
from cvtool.core.layout import (
    IMAGES_DIR,
    MASKS_DIR,
    load_manifest,
    mask_name,
    read_split_list,
    require_files,
    require_nonempty,
)


@dataclass(frozen=True)
class SplitItem:
    """One image of the split, its label mask and (in predictions mode) its predicted mask."""

    name: str
    image: Path
    mask: Path
    prediction: Path | None = None


@dataclass
class EvalSplit:
    """The `items` to evaluate (a shard's share of the split) and `total`, the number of
    images in the whole split."""

    data_dir: Path
    split: str
    manifest: DatasetManifest
    items: list[SplitItem]
    total: int


def load_split(
    data_dir: str | os.PathLike[str],
    split: str,
    predictions: str | os.PathLike[str] | None = None,
    shard: tuple[int, int] | None = None,
) -> EvalSplit:
    """List a split's images and masks (and predicted masks), failing early on missing files;
    `shard` `(i, n)` keeps every n-th image from the i-th."""
    data_dir = Path(data_dir)
    manifest = load_manifest(data_dir, "segmentation")
    names = all_names = read_split_list(data_dir, split)
    if shard is not None:
        names = all_names[shard[0] :: shard[1]]
    require_nonempty(names, data_dir, split, ".txt", " for this shard" if shard else "")
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
    require_files([i.image for i in items], "images", split, "re-run `cvtool prepare`")
    require_files([i.mask for i in items], "label masks", split, "re-run `cvtool prepare`")
    if pred_dir is not None:
        hint = "write one <stem>.png index mask per split image"
        require_files([i.prediction for i in items], "predicted masks", split, hint)
    return EvalSplit(data_dir, split, manifest, items, len(all_names))
