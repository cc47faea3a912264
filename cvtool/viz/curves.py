"""Training curves from `history.csv` rows: loss, accuracy and mIoU, train vs val."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cvtool.artifacts import atomic_path

CURVES = {"loss": "Loss", "accuracy": "Accuracy", "miou": "mIoU"}


def plot_history(rows: Sequence[dict[str, Any]], plots_dir: Path) -> list[Path]:
    """One PNG per metric present in the rows (`train_<m>` / `val_<m>` columns)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    epochs = [int(r["epoch"]) for r in rows]
    for metric, title in CURVES.items():
        if f"val_{metric}" not in rows[0]:
            continue
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for split, style in (("train", "-o"), ("val", "-s")):
            ax.plot(epochs, [float(r[f"{split}_{metric}"]) for r in rows], style, label=split)
        ax.set(xlabel="epoch", ylabel=title, title=f"{title}: train vs val")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        path = plots_dir / f"{metric}.png"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=100)
        plt.close(fig)
        written.append(path)
    return written
