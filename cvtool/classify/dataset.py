"""The classification training/validation dataset over a prepared dataset dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cvtool.classify.split import load_class_split
from cvtool.core.cache import CacheItem, SampleCache, open_cache
from cvtool.core.images import read_rgb
from cvtool.core.transforms import Transform


def decode_image(item: CacheItem) -> tuple[np.ndarray, None]:
    """The `(H, W, 3)` pixels of an item (a cache's decoder: no mask)."""
    return read_rgb(item.image), None


class ClassificationDataset:
    """`(image, class id)` pairs of one split listed in `splits/<split>.csv` (`path,label`)."""

    def __init__(self, root: str | Path, split: str, transform: Transform | None = None) -> None:
        self.root = Path(root)
        self.split = split
        listed = load_class_split(self.root, split)
        self.manifest = listed.manifest
        self.paths, self.labels = listed.names, listed.labels.tolist()
        self.transform = transform
        self.cache: SampleCache | None = None

    def __len__(self) -> int:
        return len(self.paths)

    def file_name(self, index: int) -> str:
        return self.paths[index]

    def use_cache(self, mode: str, workers: int | None = None, shared: bool = True) -> None:
        """Read decoded images from a `ram` or `disk` cache (see `SegmentationDataset`)."""
        items = [CacheItem(self.root / path) for path in self.paths]
        self.cache = open_cache(
            mode, self.root, self.split, items, decode_image, {}, workers, shared
        )

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        import torch

        if self.cache is None:
            pixels = decode_image(CacheItem(self.root / self.paths[index]))[0]
        else:
            pixels = self.cache.image(index)
        image = torch.from_numpy(pixels).permute(2, 0, 1)
        image = image.float() / 255 if self.transform is None else self.transform(image)
        return image, torch.tensor(self.labels[index])
