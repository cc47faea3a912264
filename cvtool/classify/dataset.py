"""The classification training/validation dataset over a prepared dataset dir."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from cvtool.core.errors import CvtoolError
from cvtool.core.images import read_image
from cvtool.core.layout import load_manifest
from cvtool.core.transforms import Transform


class ClassificationDataset:
    """`(image, class id)` pairs of one split listed in `splits/<split>.csv` (`path,label`)."""

    def __init__(self, root: str | Path, split: str, transform: Transform | None = None) -> None:
        self.root = Path(root)
        self.split = split
        self.manifest = load_manifest(self.root, "classification")
        self.paths, self.labels = self._read_csv(self.root / "splits" / f"{split}.csv")
        self.transform = transform

    def _read_csv(self, path: Path) -> tuple[list[str], list[int]]:
        if not path.is_file():
            raise CvtoolError(f"split {self.split!r} not found: {path}")
        ids = {name: i for i, name in enumerate(self.manifest.class_names)}
        paths, labels = [], []
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None or not {"path", "label"} <= set(reader.fieldnames):
                raise CvtoolError(f"{path} must have a header with columns path,label")
            for line, row in enumerate(reader, start=2):
                if row["label"] not in ids:
                    raise CvtoolError(
                        f"{path} line {line}: label {row['label']!r} is not a class of the "
                        f"dataset ({', '.join(ids)})"
                    )
                paths.append(row["path"])
                labels.append(ids[row["label"]])
        if not paths:
            raise CvtoolError(f"split {self.split!r} of {self.root} is empty ({path})")
        return paths, labels

    def __len__(self) -> int:
        return len(self.paths)

    def file_name(self, index: int) -> str:
        return self.paths[index]

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        import torch

        image = read_image(self.root / self.paths[index])
        image = image.float() / 255 if self.transform is None else self.transform(image)
        return image, torch.tensor(self.labels[index])
