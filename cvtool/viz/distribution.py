"""Bar chart of a class distribution: each split's share per class, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cvtool.artifacts import atomic_path

if TYPE_CHECKING:
    from cvtool.data.stats import ClassDistribution


def plot_class_distribution(dist: ClassDistribution, path: Path) -> Path:
    """Grouped bars (fraction of the split's pixels or images per class), saved atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return path
