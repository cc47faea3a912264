"""The images and labels of one split of a prepared classification dataset, checked up front."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cvtool.core.artifacts import DatasetManifest
from cvtool.core.layout import load_manifest, read_split_csv, require_files, require_nonempty


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
    data_dir = Path(data_dir)
    manifest = load_manifest(data_dir, "classification")
    names, labels = read_split_csv(data_dir, split, manifest.class_names)
    require_nonempty(names, data_dir, split, ".csv")
    hint = "re-run `cvtool prepare folder` for this dataset"
    require_files([data_dir / name for name in names], "images", split, hint)
    return ClassSplit(data_dir, split, manifest, names, np.asarray(labels, dtype=np.int64))
