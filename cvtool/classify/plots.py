"""Classification plots: the misclassified gallery and t-SNE scatter plots."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cvtool.core.figures import pyplot, save_figure


@dataclass
class Misclassified:
    image: np.ndarray  # (H, W, 3) uint8
    name: str
    true: str
    predicted: str
    confidence: float


def plot_gallery(
    images: Sequence[np.ndarray], captions: Sequence[str], path: Path, title: str
) -> Path:
    """Write `(H, W, 3)` uint8 images with their captions as one grid (up to 6 columns)."""
    plt = pyplot()

    cols = min(6, max(1, len(images)))
    rows = max(1, math.ceil(len(images) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 3.0 * rows + 0.5), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image, caption in zip(axes.ravel(), images, captions, strict=False):
        ax.imshow(image)
        ax.set_title(caption, fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path, dpi=90)


def plot_misclassified(items: Sequence[Misclassified], path: Path, title: str) -> Path:
    """Write the grid (up to 6 columns) as one PNG."""
    captions = [
        f"{Path(i.name).name}\ntrue {i.true}\npred {i.predicted} ({i.confidence:.2f})"
        for i in items
    ]
    return plot_gallery([i.image for i in items], captions, path, title)


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
    plt = pyplot()
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
    return save_figure(fig, path, dpi=100)
