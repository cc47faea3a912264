"""The classification training/validation dataset over a prepared dataset dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cvtool.classify.split import load_class_split
from cvtool.core.images import read_image
from cvtool.core.transforms import Transform


class ClassificationDataset:
    """`(image, class id)` pairs of one split listed in `splits/<split>.csv` (`path,label`)."""

    def __init__(self, root: str | Path, split: str, transform: Transform | None = None) -> None:
        self.root = Path(root)
        self.split = split
        listed = load_class_split(self.root, split)
        self.manifest = listed.manifest
        self.paths, self.labels = listed.names, listed.labels.tolist()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.paths)

    def file_name(self, index: int) -> str:
        return self.paths[index]

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        import torch

        image = read_image(self.root / self.paths[index])
        image = image.float() / 255 if self.transform is None else self.transform(image)
        return image, torch.tensor(self.labels[index])
