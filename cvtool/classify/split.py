"""The images and labels of one split of a prepared classification dataset, checked up front."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cvtool.core.artifacts import DatasetManifest
from cvtool.core.errors import CvtoolError


@dataclass
class ClassSplit:
    """`names[i]` (the path as written in `splits/<split>.csv`), `paths[i]` and `labels[i]`."""

    data_dir: Path
    split: str
    manifest: DatasetManifest
    names: list[str]
    labels: np.ndarray

    @property
    def paths(self) -> list[Path]:
        return [self.data_dir / name for name in self.names]

    def subsample(self, limit: int) -> ClassSplit:
        """At most `limit` items, evenly spaced through the split (deterministic)."""
        if len(self.names) <= limit:
            return self
        keep = np.unique(np.linspace(0, len(self.names) - 1, limit).round().astype(int))
        names = [self.names[i] for i in keep]
        return ClassSplit(self.data_dir, self.split, self.manifest, names, self.labels[keep])


def load_class_split(data_dir: str | os.PathLike[str], split: str) -> ClassSplit:
    """Read `splits/<split>.csv`, refusing an empty split, unknown labels or missing images."""
    from cvtool.classify.dataset import ClassificationDataset

    data_dir = Path(data_dir)
    manifest = DatasetManifest.load(data_dir)
    if manifest.task != "classification":
        raise CvtoolError(
            f"{data_dir} is a {manifest.task} dataset; a classifier needs an image-folder "
            "classification dataset (`cvtool prepare folder`)"
        )
    dataset = ClassificationDataset(data_dir, split)
    missing = [p for p in dataset.paths if not (data_dir / p).is_file()]
    if missing:
        raise CvtoolError(
            f"{len(missing)} of {len(dataset.paths)} images of split {split!r} are missing, "
            f"e.g. {data_dir / missing[0]}",
            "re-run `cvtool prepare folder` for this dataset",
        )
    labels = np.asarray(dataset.labels, dtype=np.int64)
    return ClassSplit(data_dir, split, manifest, list(dataset.paths), labels)
