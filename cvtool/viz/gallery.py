"""Failure gallery panels: image | ground truth | prediction | error map."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cvtool.artifacts import atomic_path
from cvtool.data.palette import colorize

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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    plt.close(fig)
    return path
