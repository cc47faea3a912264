"""The segmentation training/validation dataset over a prepared dataset dir.

>>> ds = SegmentationDataset("data/camvid", "val", eval_transform(size=256, crop=256))
>>> image, mask = ds[0]         # float (3, H, W) normalised, long (H, W)
>>> ds.file_name(0)             # "0001TP_008550.png"
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cvtool.core.artifacts import read_split_list
from cvtool.core.errors import CvtoolError
from cvtool.core.images import check_same_size, read_image, read_mask
from cvtool.core.layout import load_manifest
from cvtool.core.transforms import Transform


class SegmentationDataset:
    """`(image, mask)` pairs of one split: `images/<name>` and `masks/<stem>.png`."""

    def __init__(self, root: str | Path, split: str, transform: Transform | None = None) -> None:
        self.root = Path(root)
        self.split = split
        self.manifest = load_manifest(self.root, "segmentation")
        self.names = read_split_list(self.root, split)
        if not self.names:
            raise CvtoolError(f"split {split!r} of {self.root} is empty ({self._split_file})")
        self.transform = transform

    @property
    def _split_file(self) -> Path:
        return self.root / "splits" / f"{self.split}.txt"

    def __len__(self) -> int:
        return len(self.names)

    def file_name(self, index: int) -> str:
        return self.names[index]

    def mask_path(self, index: int) -> Path:
        return self.root / "masks" / f"{Path(self.names[index]).stem}.png"

    def read(self, index: int) -> tuple[Any, Any]:
        """Raw uint8 image `(3, H, W)` and mask `(H, W)` tensors, validated."""
        import torch

        image_path = self.root / "images" / self.names[index]
        image = read_image(image_path)
        m = self.manifest
        mask = read_mask(self.mask_path(index), m.num_classes, m.ignore_index)
        check_same_size(self.mask_path(index), mask.shape, image_path, image.shape[-2:])
        return image, torch.from_numpy(mask.copy())

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, mask = self.read(index)
        if self.transform is None:
            return image.float() / 255, mask.long()
        return self.transform(image, mask)
