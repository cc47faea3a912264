"""Row-normalised confusion matrix heat-map."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cvtool.artifacts import atomic_path


def normalise_rows(confusion: np.ndarray) -> np.ndarray:
    """Each ground-truth row divided by its total (rows without pixels stay 0)."""
    cm = np.asarray(confusion, dtype=np.float64)
    totals = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, totals, out=np.zeros_like(cm), where=totals > 0)


def plot_confusion(
    confusion: np.ndarray, class_names: Sequence[str], path: Path, title: str = "Confusion"
) -> Path:
    """Write a heat-map of the row-normalised matrix (recall on the diagonal) as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    norm = normalise_rows(confusion)
    n = len(class_names)
    size = max(4.0, 0.45 * n + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), class_names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), class_names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("ground truth")
    ax.set_title(f"{title} (rows normalised)")
    if n <= 25:
        for (i, j), value in np.ndenumerate(norm):
            if value >= 0.005:
                ax.text(
                    j,
                    i,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if value > 0.5 else "black",
                )
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return path
