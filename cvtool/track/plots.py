"""Tracking plots: combined scores per tracker as bars, and first-frame image grids."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from cvtool.core.figures import pyplot, save_figure

BAR_METRICS = ("HOTA", "DetA", "AssA", "MOTA", "IDF1")


def plot_metric_bars(combined: dict[str, dict[str, float]], path: Path) -> Path:
    """Grouped bars: one group per metric, one bar per tracker (percent)."""
    plt = pyplot()
    trackers = list(combined)
    x = np.arange(len(BAR_METRICS))
    width = 0.8 / max(1, len(trackers))
    fig, ax = plt.subplots(figsize=(1.6 * len(BAR_METRICS) + 2, 4))
    for i, name in enumerate(trackers):
        values = [combined[name][m] for m in BAR_METRICS]
        bars = ax.bar(x + (i - (len(trackers) - 1) / 2) * width, values, width, label=name)
        ax.bar_label(bars, fmt="%.1f", fontsize=7)
    ax.set_xticks(x, BAR_METRICS)
    ax.set_ylabel("%")
    ax.set_ylim(min(0, *(v[m] for v in combined.values() for m in BAR_METRICS)), 100)
    ax.legend()
    ax.set_title("Combined over sequences")
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)


def save_image_grid(images: list[tuple[str, Path]], path: Path, columns: int = 4) -> Path:
    """Titled thumbnails of the given image files in a grid."""
    from PIL import Image

    plt = pyplot()
    rows = math.ceil(len(images) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 2.6 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (title, image_path) in zip(axes.flat, images, strict=False):
        with Image.open(image_path) as im:
            im.thumbnail((640, 640))
            ax.imshow(np.asarray(im.convert("RGB")))
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path, dpi=100)


def plot_boxes_per_frame(counts: dict[str, dict[str, np.ndarray]], path: Path) -> Path:
    """One panel per sequence: detections and ground-truth boxes per frame over time."""
    plt = pyplot()
    fig, axes = plt.subplots(len(counts), 1, figsize=(8, 1.8 * len(counts)), squeeze=False)
    for ax, (name, series) in zip(axes[:, 0], counts.items(), strict=True):
        for label, values in series.items():
            ax.plot(np.arange(1, len(values) + 1), values, label=label.replace("_", " "), lw=1)
        ax.set_title(name, fontsize=9)
        ax.set_ylabel("boxes")
    axes[0, 0].legend(fontsize=8)
    axes[-1, 0].set_xlabel("frame")
    fig.tight_layout()
    return save_figure(fig, path, dpi=100)
