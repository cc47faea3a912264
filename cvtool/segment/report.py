"""Write an eval directory from a `SegmentationReport` (the artifact contract, DESIGN.md §3).

`metrics.json` (everything), `per_class.csv`, `confusion.csv`, `iou_bins.csv`,
`calibration.json`, `plots/*.png`; the runner adds `per_image.csv`, `failures/`, `state.npz`
and optional `masks/`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.artifacts import SCHEMA_VERSION, ClassInfo, atomic_write_json, atomic_write_text
from cvtool.core.plots import plot_confusion, plot_reliability
from cvtool.segment.metrics import SegmentationReport
from cvtool.segment.plots import plot_iou_histograms

METRICS_FILE = "metrics.json"
STATE_FILE = "state.npz"
PER_IMAGE_FILE = "per_image.csv"
FAILURES_DIR = "failures"
NO_SCORES_REASON = (
    "scored from predicted index masks, which carry no class probabilities: calibration "
    "(ECE/MCE) and average precision need the model's softmax scores, so they are not reported"
)
ABSENT_NOTE = (
    "classes absent from both the ground truth and the predictions have no IoU/Dice/precision/"
    "recall (null, not 0) and are excluded from the means"
)


def finite(value: Any) -> float | None:
    """A float for JSON, or None for NaN (JSON has no NaN)."""
    value = float(value)
    return None if math.isnan(value) else value


def class_rows(report: SegmentationReport, classes: Sequence[ClassInfo]) -> list[dict[str, Any]]:
    s, ap = report.scores, report.average_precision
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
            "support": int(s.support[c.id]),
        }
        for c in classes
    ]


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return buffer.getvalue()


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
    failures: list[dict[str, Any]],
    title: str,
) -> dict[str, Any]:
    """Write the tables, plots and `metrics.json`; return the metrics dict."""
    names = [c.name for c in classes]
    rows = class_rows(report, classes)
    table = [{k: v for k, v in r.items() if k != "color"} for r in rows]
    atomic_write_text(out / "per_class.csv", csv_text(list(table[0]), (r.values() for r in table)))
    atomic_write_text(
        out / "confusion.csv",
        csv_text(
            ["ground_truth\\predicted", *names],
            ([n, *r] for n, r in zip(names, report.scores.confusion.tolist(), strict=True)),
        ),
    )
    bins = iou_bin_rows(report)
    atomic_write_text(out / "iou_bins.csv", csv_text(list(bins[0]), (b.values() for b in bins)))
    plots = out / "plots"
    plot_confusion(report.scores.confusion, names, plots / "confusion.png", title)
    plot_iou_histograms(
        report.class_iou_histogram, report.image_iou_histogram, plots / "iou_histograms.png", title
    )
    if report.calibration is not None:
        calibration = {"available": True, **report.calibration.to_dict()}
        plot_reliability(report.calibration, plots / "reliability.png", title)
    else:
        calibration = {"available": False, "reason": NO_SCORES_REASON}
    atomic_write_json(out / "calibration.json", calibration)

    absent = [r["name"] for r in rows if not r["present"]]
    notes = [ABSENT_NOTE] if absent else []
    if report.calibration is None:
        notes.append(NO_SCORES_REASON)
    if report.images_without_labels:
        notes.append(
            f"{report.images_without_labels} image(s) have only ignored pixels: no per-image IoU"
        )
    metrics = {
        "schema_version": SCHEMA_VERSION,
        "task": "segmentation",
        **context,
        "images": report.images,
        "headline": {k: finite(v) for k, v in report.headline().items()},
        "classes": rows,
        "absent_classes": absent,
        "iou_histogram": {
            "edges": [b["lower"] for b in bins] + [1.0],
            "classes": [b["classes"] for b in bins],
            "images": [b["images"] for b in bins],
            "per_image_iou": "mean IoU over the classes in the image's ground truth or prediction",
        },
        "calibration": {
            k: calibration[k]
            for k in ("available", "ece", "mce", "n_bins", "reason")
            if k in calibration
        },
        "failures": failures,
        "notes": notes,
    }
    atomic_write_json(out / METRICS_FILE, metrics)
    return metrics
