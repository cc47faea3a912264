"""A segmentation eval dir from a `SegmentationReport` (the artifact contract, DESIGN.md §3).

The shared files come from `cvtool.core.evaldir`; this adds the per-class IoU/Dice/AP rows,
`iou_bins.csv` and `plots/iou_histograms.png`. The runner adds `per_image.csv`, `failures/`,
`state.npz` and optional `masks/`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.artifacts import ClassInfo, atomic_write_text, csv_text
from cvtool.core.evaldir import (
    PLOTS_DIR,
    EvalResult,
    calibration_info,
    finite,
    write_eval_dir,
)
from cvtool.core.finite import nonfinite_warnings
from cvtool.core.tables import Column
from cvtool.segment.metrics import SegmentationReport
from cvtool.segment.plots import plot_iou_histograms

STATE_FILE = "state.npz"
PER_IMAGE_FILE = "per_image.csv"
CLASS_COLUMNS = (
    Column("iou", "IoU"),
    Column("dice", "Dice"),
    Column("precision", "precision"),
    Column("recall", "recall"),
    Column("ap", "AP"),
    Column("ece", "ECE"),
    Column("support", "pixels", count=True),
)
NO_SCORES_REASON = (
    "scored from predicted index masks, which carry no class probabilities: calibration "
    "(ECE/MCE) and average precision need the model's softmax scores, so they are not reported"
)
CONFIDENCE = (
    "top-1 softmax probability per labelled pixel; per-class ECE: the class's probability "
    "against whether the pixel is of that class"
)
ABSENT_NOTE = (
    "classes absent from both the ground truth and the predictions have no IoU/Dice/precision/"
    "recall (null, not 0) and are excluded from the means"
)


def class_rows(report: SegmentationReport, classes: Sequence[ClassInfo]) -> list[dict[str, Any]]:
    s, ap = report.scores, report.average_precision
    class_ece = None if report.calibration is None else report.calibration.class_ece
    return [
        {
            "id": c.id,
            "name": c.name,
            "color": list(c.color),
            "present": bool(s.present[c.id]),
            "iou": finite(s.iou[c.id]),
            "dice": finite(s.dice[c.id]),
            "precision": finite(s.precision[c.id]),
            "recall": finite(s.recall[c.id]),
            "ap": None if ap is None else finite(ap[c.id]),
            "ece": None if class_ece is None else finite(class_ece[c.id]),
            "support": int(s.support[c.id]),
        }
        for c in classes
    ]


def iou_bin_rows(report: SegmentationReport) -> list[dict[str, Any]]:
    edges = np.linspace(0, 1, len(report.class_iou_histogram) + 1)
    return [
        {
            "lower": round(float(edges[i]), 6),
            "upper": round(float(edges[i + 1]), 6),
            "classes": int(report.class_iou_histogram[i]),
            "images": int(report.image_iou_histogram[i]),
        }
        for i in range(len(edges) - 1)
    ]


def write_report(
    out: Path,
    report: SegmentationReport,
    classes: Sequence[ClassInfo],
    context: dict[str, Any],
    title: str,
) -> dict[str, Any]:
    """Write the tables, plots and `metrics.json`; return the metrics dict."""
    rows = class_rows(report, classes)
    bins = iou_bin_rows(report)
    atomic_write_text(out / "iou_bins.csv", csv_text(list(bins[0]), (b.values() for b in bins)))
    plot_iou_histograms(
        report.class_iou_histogram,
        report.image_iou_histogram,
        out / PLOTS_DIR / "iou_histograms.png",
        title,
    )
    absent = [r["name"] for r in rows if not r["present"]]
    notes = [ABSENT_NOTE] if absent else []
    if report.calibration is None:
        notes.append(NO_SCORES_REASON)
    if report.images_without_labels:
        notes.append(
            f"{report.images_without_labels} image(s) have only ignored pixels: no per-image IoU"
        )
    result = EvalResult(
        task="segmentation",
        images=report.images,
        headline=report.headline(),
        class_names=[c.name for c in classes],
        rows=rows,
        absent=absent,
        confusion=report.scores.confusion,
        calibration=report.calibration,
        notes=notes,
        calibration_info=calibration_info(CONFIDENCE, context)
        if report.calibration
        else {"reason": NO_SCORES_REASON},
        raw_calibration=report.raw_calibration,
        sections={
            "iou_histogram": {
                "edges": [b["lower"] for b in bins] + [1.0],
                "classes": [b["classes"] for b in bins],
                "images": [b["images"] for b in bins],
                "per_image_iou": "mean IoU over the classes in the image's ground truth or "
                "prediction",
            }
        },
        csv_skip=("color",),
        warnings=nonfinite_warnings(context, report.images),
    )
    return write_eval_dir(out, result, context, title)
