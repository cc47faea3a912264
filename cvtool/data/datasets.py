"""torch Datasets over prepared dataset dirs (see `cvtool.artifacts`), plus label statistics.

>>> ds = SegmentationDataset("data/camvid", "val", eval_transform(size=256, crop=256))
>>> image, mask = ds[0]         # float (3, H, W) normalised, long (H, W)
>>> ds.file_name(0)             # "0001TP_008550.png"

Both dataset kinds return `(image, target)`: a `(H, W)` long mask or a scalar long class id, so
the training engine treats segmentation and classification alike.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.artifacts import DatasetManifest, read_split_list
from cvtool.errors import CvtoolError
from cvtool.parallel import parallel_map

Transform = Callable[..., Any]


def read_image(path: Path) -> Any:
    """An RGB image as a uint8 `(3, H, W)` tensor; CvtoolError naming the file if unreadable."""
    from torchvision.io import ImageReadMode, decode_image

    if not path.is_file():
        raise CvtoolError(f"image not found: {path}", "re-run `cvtool prepare` for this dataset")
    try:
        return decode_image(str(path), mode=ImageReadMode.RGB)
    except RuntimeError as e:
        raise CvtoolError(f"cannot decode image {path}: {e}") from None


def read_mask(path: Path, num_classes: int, ignore_index: int) -> np.ndarray:
    """A class-index mask as a uint8 `(H, W)` array, checked against the class count."""
    from PIL import Image

    if not path.is_file():
        raise CvtoolError(f"mask not found: {path}", "re-run `cvtool prepare` for this dataset")
    try:
        with Image.open(path) as im:
            if im.mode not in ("L", "P"):
                raise CvtoolError(
                    f"mask {path} is a {im.mode} image, not a single-channel class-index PNG"
                )
            mask = np.asarray(im, dtype=np.uint8)
    except OSError as e:
        raise CvtoolError(f"cannot read mask {path}: {e}") from None
    bad = (mask >= num_classes) & (mask != ignore_index)
    if bad.any():
        raise CvtoolError(
            f"mask {path} contains class id {int(mask[bad].max())}, but the dataset defines "
            f"{num_classes} classes (ids 0..{num_classes - 1}, {ignore_index} = ignore)",
            "re-run `cvtool prepare` or fix the classes in dataset.json",
        )
    return mask


def _load_manifest(root: Path, task: str) -> DatasetManifest:
    manifest = DatasetManifest.load(root)
    if manifest.task != task:
        raise CvtoolError(f"{root / 'dataset.json'} is a {manifest.task} dataset, not {task}")
    return manifest


class SegmentationDataset:
    """`(image, mask)` pairs of one split: `images/<name>` and `masks/<stem>.png`."""

    def __init__(self, root: str | Path, split: str, transform: Transform | None = None) -> None:
        self.root = Path(root)
        self.split = split
        self.manifest = _load_manifest(self.root, "segmentation")
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

        image = read_image(self.root / "images" / self.names[index])
        m = self.manifest
        mask = read_mask(self.mask_path(index), m.num_classes, m.ignore_index)
        if tuple(image.shape[-2:]) != mask.shape:
            raise CvtoolError(
                f"mask {self.mask_path(index)} is {mask.shape[1]}x{mask.shape[0]} but its image "
                f"is {image.shape[-1]}x{image.shape[-2]}"
            )
        return image, torch.from_numpy(mask.copy())

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, mask = self.read(index)
        if self.transform is None:
            return image.float() / 255, mask.long()
        return self.transform(image, mask)


class ClassificationDataset:
    """`(image, class id)` pairs of one split listed in `splits/<split>.csv` (`path,label`)."""

    def __init__(self, root: str | Path, split: str, transform: Transform | None = None) -> None:
        self.root = Path(root)
        self.split = split
        self.manifest = _load_manifest(self.root, "classification")
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


Dataset = SegmentationDataset | ClassificationDataset


def open_dataset(root: str | Path, split: str, transform: Transform | None = None) -> Dataset:
    """The dataset of `split` in a prepared dir, of the kind its `dataset.json` declares."""
    task = DatasetManifest.load(root).task
    cls = SegmentationDataset if task == "segmentation" else ClassificationDataset
    return cls(root, split, transform)


# --------------------------------------------------------------------------- label statistics
@dataclass
class LabelStats:
    """Per-class label counts of a split.

    `pixels[c]`: labelled pixels (or images, for classification) of class c;
    `present[i, c]`: image i contains class c; `image_pixels[c]`: total labelled pixels of the
    images that contain class c (the denominator of median-frequency balancing).
    """

    pixels: np.ndarray
    present: np.ndarray
    image_pixels: np.ndarray


def _mask_histogram(path: Path, num_classes: int, ignore_index: int) -> np.ndarray:
    mask = read_mask(path, num_classes, ignore_index)
    return np.bincount(mask[mask != ignore_index].ravel(), minlength=num_classes)


def label_stats(dataset: Dataset, workers: int | None = None) -> LabelStats:
    """Count labels of every item (masks are read in parallel, and validated on the way)."""
    k = dataset.manifest.num_classes
    if isinstance(dataset, ClassificationDataset):
        labels = np.asarray(dataset.labels)
        present = np.eye(k, dtype=bool)[labels]
        counts = present.sum(axis=0).astype(np.int64)
        return LabelStats(counts, present, np.full(k, len(labels), dtype=np.int64))
    fn = partial(_mask_histogram, num_classes=k, ignore_index=dataset.manifest.ignore_index)
    paths = [dataset.mask_path(i) for i in range(len(dataset))]
    pixels = np.zeros(k, dtype=np.int64)
    image_pixels = np.zeros(k, dtype=np.int64)
    present = np.zeros((len(paths), k), dtype=bool)
    desc = f"checking {dataset.split} masks"
    for i, hist in enumerate(parallel_map(fn, paths, workers, desc)):
        pixels += hist
        present[i] = hist > 0
        image_pixels[present[i]] += hist.sum()
    return LabelStats(pixels, present, image_pixels)
