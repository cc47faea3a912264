"""The datasets the engine trains on, of either task, and their label statistics.

Both dataset kinds return `(image, target)`: a `(H, W)` long mask or a scalar long class id, so
the training loop treats segmentation and classification alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from cvtool.classify.dataset import ClassificationDataset
from cvtool.core.artifacts import DatasetManifest
from cvtool.core.images import read_mask
from cvtool.core.parallel import parallel_map
from cvtool.core.transforms import Transform
from cvtool.segment.dataset import SegmentationDataset

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
