"""Segmentation plots: failure panels (image, truth, prediction, errors) and IoU histograms."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cvtool.core.figures import pyplot, save_figure
from cvtool.core.palette import colorize

CORRECT = (40, 160, 60)
WRONG = (220, 30, 30)
IGNORED = (255, 255, 255)


def error_map(label: np.ndarray, prediction: np.ndarray, ignore_index: int) -> np.ndarray:
    """RGB `(H, W, 3)`: green where right, red where wrong, white where the label is ignored."""
    out = np.empty((*label.shape, 3), dtype=np.uint8)
    out[:] = WRONG
    out[label == prediction] = CORRECT
    out[label == ignore_index] = IGNORED
    return out


def plot_failure(
    image: np.ndarray,
    label: np.ndarray,
    prediction: np.ndarray,
    colors: np.ndarray,
    ignore_index: int,
    path: Path,
    title: str,
) -> Path:
    """Write one four-panel PNG for a badly segmented image."""
    plt = pyplot()

    panels = (
        ("image", image),
        ("ground truth", colorize(label, colors)),
        ("prediction", colorize(prediction, colors)),
        ("errors (red), ignored (white)", error_map(label, prediction, ignore_index)),
    )
    aspect = image.shape[0] / image.shape[1]
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.5 * aspect + 0.6))
    for ax, (name, picture) in zip(axes, panels, strict=True):
        ax.imshow(picture, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path, dpi=80)


def plot_iou_histograms(
    class_counts: np.ndarray, image_counts: np.ndarray, path: Path, title: str = "IoU"
) -> Path:
    """Two bar charts side by side over [0, 1], one per histogram."""
    plt = pyplot()
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
    return save_figure(fig, path, dpi=110)
