"""Training curves from `history.csv` rows: loss, accuracy and mIoU, train vs val, side by side
in one figure (`plots/curves.png`; one figure keeps the per-epoch refresh cheap)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cvtool.core.figures import pyplot, save_figure

CURVES = {"loss": "Loss", "accuracy": "Accuracy", "miou": "mIoU"}


def plot_history(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """One panel per metric present in the rows (`train_<m>` and `val_<m>` columns)."""
    plt = pyplot()

    metrics = [m for m in CURVES if f"val_{m}" in rows[0]]
    epochs = [int(r["epoch"]) for r in rows]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for split, style in (("train", "-o"), ("val", "-s")):
            ax.plot(epochs, [float(r[f"{split}_{metric}"]) for r in rows], style, label=split)
        ax.set(xlabel="epoch", title=CURVES[metric])
        ax.grid(alpha=0.3)
        ax.legend()
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.15, top=0.9, wspace=0.25)
    return save_figure(fig, path, dpi=90)
