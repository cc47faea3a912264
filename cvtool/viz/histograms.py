"""IoU histograms: how many classes, and how many images, fall in each 0.1 IoU bin."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cvtool.artifacts import atomic_path


def plot_iou_histograms(
    class_counts: np.ndarray, image_counts: np.ndarray, path: Path, title: str = "IoU"
) -> Path:
    """Two bar charts side by side over [0, 1], one per histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    n_bins = len(class_counts)
    edges = np.linspace(0, 1, n_bins + 1)
    centers, width = (edges[:-1] + edges[1:]) / 2, 1 / n_bins
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    panels = ((axes[0], class_counts, "class"), (axes[1], image_counts, "image"))
    for ax, counts, what in panels:
        ax.bar(centers, counts, width=width, edgecolor="black", color="tab:blue")
        ax.set_xlim(0, 1)
        ax.set_xticks(edges)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("IoU")
        ax.set_ylabel(f"number of {what}es" if what == "class" else f"number of {what}s")
        ax.set_title(f"{title}: per-{what} IoU (n={int(np.sum(counts))})")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return path
