"""Class distribution of a prepared dataset per split: pixels per class (segmentation, read
from the masks) or images per class (classification, from the split CSVs)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cvtool.core.artifacts import SPLITS, DatasetManifest, atomic_write_text, csv_text
from cvtool.core.figures import pyplot, save_figure
from cvtool.core.images import read_index_png
from cvtool.core.layout import MASKS_DIR, mask_name, read_split_csv, read_split_list
from cvtool.core.parallel import parallel_map
from cvtool.formats.layout import pixel_row

INVALID_ROW = "invalid"  # mask values that are neither a class nor the ignore index


@dataclass
class ClassDistribution:
    """`counts[split][row]`: rows are the class names, then (segmentation) ignore and invalid."""

    task: str
    unit: str  # "pixels" or "images"
    rows: list[str]
    counts: dict[str, dict[str, int]]

    def fractions(self, split: str) -> dict[str, float]:
        total = sum(self.counts[split].values())
        return {r: (self.counts[split][r] / total if total else 0.0) for r in self.rows}

    def to_csv(self) -> str:
        header = ["class", *(f"{s}_{self.unit}" for s in self.counts)]
        return csv_text(
            header, ([row, *(self.counts[s][row] for s in self.counts)] for row in self.rows)
        )


def mask_value_counts(path: str) -> np.ndarray:
    """Pixels per mask value (256 bins) of one index PNG."""
    return np.bincount(read_index_png(path).ravel(), minlength=256)


def _segmentation(directory: Path, manifest: DatasetManifest, workers: int | None) -> dict:
    k, ignore = manifest.num_classes, manifest.ignore_index
    counts = {}
    for split in SPLITS:
        paths = [
            str(directory / MASKS_DIR / mask_name(n)) for n in read_split_list(directory, split)
        ]
        total = np.zeros(256, dtype=np.int64)
        for c in parallel_map(mask_value_counts, paths, workers, f"{split} masks"):
            total += c
        row = pixel_row(total, manifest.class_names, ignore)
        row[INVALID_ROW] = int(total.sum() - total[:k].sum() - total[ignore])
        counts[split] = row
    return counts


def _classification(directory: Path, manifest: DatasetManifest) -> dict:
    counts = {}
    for split in SPLITS:
        _, labels = read_split_csv(directory, split, manifest.class_names)
        images = np.bincount(labels, minlength=manifest.num_classes)
        counts[split] = {name: int(n) for name, n in zip(manifest.class_names, images, strict=True)}
    return counts


def class_distribution(directory: str | Path, workers: int | None = None) -> ClassDistribution:
    """Count the classes of every split of a prepared dataset directory."""
    directory = Path(directory)
    manifest = DatasetManifest.load(directory)
    if manifest.task == "segmentation":
        counts = _segmentation(directory, manifest, workers)
        rows = [*manifest.class_names, "ignore", INVALID_ROW]
        return ClassDistribution(manifest.task, "pixels", rows, counts)
    counts = _classification(directory, manifest)
    return ClassDistribution(manifest.task, "images", manifest.class_names, counts)


def write_distribution(dist: ClassDistribution, out_dir: Path) -> tuple[Path, Path]:
    """`class_distribution.csv` and the bar chart `class_distribution.png` in `out_dir`."""
    csv_path, png_path = out_dir / "class_distribution.csv", out_dir / "class_distribution.png"
    atomic_write_text(csv_path, dist.to_csv())
    plot_class_distribution(dist, png_path)
    return csv_path, png_path


def plot_class_distribution(dist: ClassDistribution, path: Path) -> Path:
    """Grouped bars (fraction of the split's pixels or images per class), saved atomically."""
    plt = pyplot()

    rows = [r for r in dist.rows if any(dist.counts[s][r] for s in dist.counts)] or dist.rows
    splits = [s for s in dist.counts if sum(dist.counts[s].values())]
    x = np.arange(len(rows))
    width = 0.8 / max(1, len(splits))
    fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(rows) + 2), 4), layout="constrained")
    for i, split in enumerate(splits):
        fractions = dist.fractions(split)
        total = sum(dist.counts[split].values())
        ax.bar(
            x + (i - (len(splits) - 1) / 2) * width,
            [fractions[r] for r in rows],
            width,
            label=f"{split} ({total:,} {dist.unit})",
        )
    ax.set_xticks(x, rows, rotation=45, ha="right")
    ax.set_ylabel(f"share of {dist.unit}")
    ax.set_title(f"class distribution ({dist.task})")
    ax.legend()
    return save_figure(fig, path, dpi=100)
