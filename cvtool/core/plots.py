"""Plots every task draws: the row-normalised confusion heat-map and the reliability diagram."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cvtool.core.calibration import CalibrationResult
from cvtool.core.figures import pyplot, save_figure


def normalise_rows(confusion: np.ndarray) -> np.ndarray:
    """Each ground-truth row divided by its total (rows without pixels stay 0)."""
    cm = np.asarray(confusion, dtype=np.float64)
    totals = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, totals, out=np.zeros_like(cm), where=totals > 0)


def plot_confusion(
    confusion: np.ndarray, class_names: Sequence[str], path: Path, title: str = "Confusion"
) -> Path:
    """Write a heat-map of the row-normalised matrix (recall on the diagonal) as PNG."""
    plt = pyplot()

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
    return save_figure(fig, path, dpi=110)


def plot_reliability(
    result: CalibrationResult,
    path: Path,
    title: str = "Reliability",
    raw: CalibrationResult | None = None,
) -> Path:
    """Write a two-panel PNG: bars of accuracy with the gap to confidence, and bin counts.

    With `raw` (the uncalibrated model's bins, for a calibrated model), its accuracy per bin
    and its counts are drawn over the same axes as an orange line, so both read in one diagram.
    """
    plt = pyplot()

    edges = np.linspace(0, 1, result.n_bins + 1)
    centers, width = (edges[:-1] + edges[1:]) / 2, 1 / result.n_bins
    filled = result.count > 0
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(5, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    name = "calibrated" if raw is not None else "accuracy"
    top.bar(
        centers[filled],
        result.accuracy[filled],
        width=width,
        edgecolor="black",
        color="tab:blue",
        label=name,
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
    heading = f"ECE {result.ece:.4f}  MCE {result.mce:.4f}  (n={result.total})"
    if raw is not None:
        seen = raw.count > 0
        top.plot(
            centers[seen], raw.accuracy[seen], "o-", color="tab:orange", linewidth=2, label="raw"
        )
        bottom.step(edges, np.append(raw.count, raw.count[-1]), where="post", color="tab:orange")
        heading = f"ECE raw {raw.ece:.4f} -> calibrated {result.ece:.4f}  (n={result.total})"
    top.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfect calibration")
    top.set_ylabel("accuracy")
    top.set_ylim(0, 1)
    top.set_title(f"{title}\n{heading}")
    top.legend(loc="upper left")
    bottom.bar(centers, result.count, width=width, edgecolor="black", color="tab:gray")
    bottom.set_xlabel("confidence")
    bottom.set_ylabel("count")
    bottom.set_xlim(0, 1)
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)
