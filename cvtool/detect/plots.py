"""Detection plots: TIDE error bars for one scale, and COCO precision-recall curves per IoU."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cvtool.core.figures import pyplot, save_figure


def plot_tide_errors(
    main: dict[str, float], special: dict[str, float], ap50: float, path: Path, title: str
) -> Path:
    """Two bar panels: the six main errors and the two special ones, as dAP (AP points)."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(8, 3.4), gridspec_kw={"width_ratios": [3, 1]}, sharey=True
    )
    left.bar(list(main), list(main.values()), color="tab:red", edgecolor="black")
    right.bar(list(special), list(special.values()), color="tab:purple", edgecolor="black")
    left.set_ylabel("dAP (AP50 points)")
    left.set_title("main errors")
    right.set_title("special errors")
    top = max([*main.values(), *special.values(), 1.0])
    left.set_ylim(0, top * 1.15)
    for ax, values in ((left, main), (right, special)):
        for x, v in enumerate(values.values()):
            ax.text(x, v, f"{v:.2f}", ha="center", va="bottom", fontsize=8)
    fig.suptitle(f"{title}  (TIDE AP50 {ap50:.2f})")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_pr_curves(
    recall: np.ndarray, precision: np.ndarray, iou_thresholds: np.ndarray, path: Path, title: str
) -> Path:
    """One precision-recall curve per IoU threshold (`precision[t, r]`; -1 = undefined)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    colors = plt.cm.viridis(np.linspace(0, 1, len(iou_thresholds)))
    for t, thr in enumerate(iou_thresholds):
        curve = np.where(precision[t] > -1, precision[t], np.nan)
        ax.plot(recall, curve, color=colors[t], label=f"IoU {thr:.2f}")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    fig.tight_layout()
    return save_figure(fig, path)
