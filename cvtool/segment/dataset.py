"""The segmentation training/validation dataset over a prepared dataset dir.

>>> ds = SegmentationDataset("data/camvid", "val", eval_transform(size=256, crop=256))
>>> image, mask = ds[0]         # float (3, H, W) normalised, long (H, W)
>>> ds.file_name(0)             # "0001TP_008550.png"
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from cvtool.core.cache import CacheItem, SampleCache, open_cache
from cvtool.core.transforms import Transform
from cvtool.segment.samples import load_labelled_image
from cvtool.segment.split import load_split


class SegmentationDataset:
    """`(image, mask)` pairs of one split: `images/<name>` and `masks/<stem>.png`, decoded
    from the files or read from a decoded-sample cache (`use_cache`)."""

    def __init__(self, root: str | Path, split: str, transform: Transform | None = None) -> None:
        self.root = Path(root)
        self.split = split
        listed = load_split(self.root, split)
        self.manifest = listed.manifest
        self.items = listed.items
        self.names = [item.name for item in self.items]
        self.transform = transform
        self.cache: SampleCache | None = None
        m = self.manifest
        self._decode = partial(
            load_labelled_image, num_classes=m.num_classes, ignore_index=m.ignore_index
        )

    def __len__(self) -> int:
        return len(self.items)

    def file_name(self, index: int) -> str:
        return self.names[index]

    def mask_path(self, index: int) -> Path:
        return self.items[index].mask

    def use_cache(self, mode: str, workers: int | None = None, shared: bool = True) -> None:
        """Read decoded samples from a `ram` or `disk` cache (`cvtool.core.cache`), built now
        if needed with `workers` processes; `none` reads the files."""
        items = [CacheItem(item.image, item.mask) for item in self.items]
        key = {"num_classes": self.manifest.num_classes, "ignore": self.manifest.ignore_index}
        self.cache = open_cache(
            mode, self.root, self.split, items, self._decode, key, workers, shared
        )

    def read(self, index: int) -> tuple[Any, Any]:
        """Raw uint8 image `(3, H, W)` (a view of `(H, W, 3)` pixels) and mask `(H, W)`
        tensors, validated."""
        import torch

        if self.cache is None:
            image, mask = self._decode(self.items[index])
        else:
            image, mask = self.cache.image(index), self.cache.mask(index)
        return torch.from_numpy(image).permute(2, 0, 1), torch.from_numpy(mask)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, mask = self.read(index)
        if self.transform is None:
            return image.float() / 255, mask.long()
        return self.transform(image, mask)
