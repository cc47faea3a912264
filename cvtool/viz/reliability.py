"""Reliability diagram: accuracy vs confidence per bin, the gap, and the confidence histogram."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cvtool.artifacts import atomic_path
from cvtool.metrics.calibration import CalibrationResult


def plot_reliability(result: CalibrationResult, path: Path, title: str = "Reliability") -> Path:
    """Write a two-panel PNG: bars of accuracy with the gap to confidence, and bin counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    edges = np.linspace(0, 1, result.n_bins + 1)
    centers, width = (edges[:-1] + edges[1:]) / 2, 1 / result.n_bins
    filled = result.count > 0
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(5, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.bar(
        centers[filled],
        result.accuracy[filled],
        width=width,
        edgecolor="black",
        color="tab:blue",
        label="accuracy",
    )
    gap_bottom = np.minimum(result.accuracy, result.mean_confidence)[filled]
    gap_height = np.abs(result.mean_confidence - result.accuracy)[filled]
    top.bar(
        centers[filled],
        gap_height,
        bottom=gap_bottom,
        width=width,
        color="tab:red",
        alpha=0.35,
        edgecolor="tab:red",
        hatch="//",
        label="gap",
    )
    top.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfect calibration")
    top.set_ylabel("accuracy")
    top.set_ylim(0, 1)
    top.set_title(f"{title}\nECE {result.ece:.4f}  MCE {result.mce:.4f}  (n={result.total})")
    top.legend(loc="upper left")
    bottom.bar(centers, result.count, width=width, edgecolor="black", color="tab:gray")
    bottom.set_xlabel("confidence")
    bottom.set_ylabel("count")
    bottom.set_xlim(0, 1)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return path
