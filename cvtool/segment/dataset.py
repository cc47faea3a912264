"""The segmentation training/validation dataset over a prepared dataset dir.

>>> ds = SegmentationDataset("data/camvid", "val", eval_transform(size=256, crop=256))
>>> image, mask = ds[0]         # float (3, H, W) normalised, long (H, W)
>>> ds.file_name(0)             # "0001TP_008550.png"
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cvtool.core.images import check_same_size, read_image, read_mask
from cvtool.core.transforms import Transform
from cvtool.segment.split import load_split


class SegmentationDataset:
    """`(image, mask)` pairs of one split: `images/<name>` and `masks/<stem>.png`."""

    def __init__(self, root: str | Path, split: str, transform: Transform | None = None) -> None:
        self.root = Path(root)
        self.split = split
        listed = load_split(self.root, split)
        self.manifest = listed.manifest
        self.items = listed.items
        self.names = [item.name for item in self.items]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.items)

    def file_name(self, index: int) -> str:
        return self.names[index]

    def mask_path(self, index: int) -> Path:
        return self.items[index].mask

    def read(self, index: int) -> tuple[Any, Any]:
        """Raw uint8 image `(3, H, W)` and mask `(H, W)` tensors, validated."""
        import torch

        item, m = self.items[index], self.manifest
        image = read_image(item.image)
        mask = read_mask(item.mask, m.num_classes, m.ignore_index)
        check_same_size(item.mask, mask.shape, item.image, image.shape[-2:])
        return image, torch.from_numpy(mask.copy())

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, mask = self.read(index)
        if self.transform is None:
            return image.float() / 255, mask.long()
        return self.transform(image, mask)
