"""t-SNE scatter plots coloured by class, one marker per split, in 2-D and 3-D."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cvtool.artifacts import atomic_path

MARKERS = {"train": "o", "val": "^", "test": "s"}


def class_colors(n: int) -> np.ndarray:
    """`(n, 4)` RGBA colours that stay distinct for up to 20 classes (tab10/tab20)."""
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return np.array([cmap(i % cmap.N) for i in range(n)])


def plot_tsne(
    coords: np.ndarray,
    labels: np.ndarray,
    splits: Sequence[str],
    class_names: Sequence[str],
    path: Path,
    title: str,
) -> Path:
    """Scatter `(N, 2)` or `(N, 3)` coordinates; colour = class, marker = split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    three_d = coords.shape[1] == 3
    colors = class_colors(len(class_names))
    fig = plt.figure(figsize=(8, 6.5))
    ax = fig.add_subplot(projection="3d" if three_d else None)
    split_arr = np.asarray(splits)
    for split in dict.fromkeys(splits):
        rows = split_arr == split
        points = coords[rows].T
        ax.scatter(
            *points,
            c=colors[labels[rows]],
            marker=MARKERS.get(split, "o"),
            s=14,
            alpha=0.8,
            edgecolors="none",
        )
    handles = [
        Line2D([], [], marker="o", linestyle="", color=colors[i], label=name)
        for i, name in enumerate(class_names)
    ] + [
        Line2D([], [], marker=MARKERS.get(s, "o"), linestyle="", color="black", label=s)
        for s in dict.fromkeys(splits)
    ]
    ax.legend(handles=handles, fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path
