"""A grid of misclassified images, each titled with its true and predicted class and the
confidence of the (wrong) prediction."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cvtool.artifacts import atomic_path


@dataclass
class Misclassified:
    image: np.ndarray  # (H, W, 3) uint8
    name: str
    true: str
    predicted: str
    confidence: float


def plot_misclassified(items: Sequence[Misclassified], path: Path, title: str) -> Path:
    """Write the grid (up to 6 columns) as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(6, max(1, len(items)))
    rows = max(1, math.ceil(len(items) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 3.0 * rows + 0.5), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, item in zip(axes.ravel(), items, strict=False):
        ax.imshow(item.image)
        ax.set_title(
            f"{Path(item.name).name}\ntrue {item.true}\npred {item.predicted} "
            f"({item.confidence:.2f})",
            fontsize=7,
        )
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    return path
