"""Write a classifier's eval directory from a `ClassificationReport`, and print its tables.

`metrics.json` (task `classification`, everything), `per_class.csv`, `confusion.csv`,
`calibration.json`, `plots/confusion.png`, `plots/reliability.png`; the runner adds
`predictions.csv`, `failures/misclassified.png` and the t-SNE outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from cvtool.classify.metrics import ClassificationReport
from cvtool.core.artifacts import SCHEMA_VERSION, ClassInfo, atomic_write_json, atomic_write_text
from cvtool.core.console import console, literal, note
from cvtool.core.plots import plot_confusion, plot_reliability
from cvtool.core.tables import fmt, print_headline
from cvtool.segment.report import METRICS_FILE, csv_text, finite

HEADLINE_LABELS = {
    "accuracy": "accuracy",
    "macro_precision": "macro P",
    "macro_recall": "macro R",
    "macro_f1": "macro F1",
    "ece": "ECE",
    "mce": "MCE",
}
ABSENT_NOTE = (
    "classes with neither images nor predictions in this split have no scores (null) and are "
    "left out of the macro means, as sklearn does by default"
)


def class_rows(report: ClassificationReport, classes: Sequence[ClassInfo]) -> list[dict]:
    def score(values: Any, i: int) -> float | None:
        return finite(values[i]) if report.present[i] else None

    return [
        {
            "id": c.id,
            "name": c.name,
            "precision": score(report.precision, c.id),
            "recall": score(report.recall, c.id),
            "f1": score(report.f1, c.id),
            "support": int(report.support[c.id]),
            "predicted": int(report.confusion[:, c.id].sum()),
        }
        for c in classes
    ]


def write_classification_report(
    out: Path,
    report: ClassificationReport,
    classes: Sequence[ClassInfo],
    context: dict[str, Any],
    notes: list[str],
    title: str,
) -> dict[str, Any]:
    """Write the tables, the confusion and reliability plots and `metrics.json`."""
    names = [c.name for c in classes]
    rows = class_rows(report, classes)
    atomic_write_text(out / "per_class.csv", csv_text(list(rows[0]), (r.values() for r in rows)))
    atomic_write_text(
        out / "confusion.csv",
        csv_text(
            ["ground_truth\\predicted", *names],
            ([n, *r] for n, r in zip(names, report.confusion.tolist(), strict=True)),
        ),
    )
    plot_confusion(report.confusion, names, out / "plots" / "confusion.png", title)
    plot_reliability(report.calibration, out / "plots" / "reliability.png", title)
    calibration = {
        "available": True,
        "confidence": "top-1 softmax probability",
        **report.calibration.to_dict(),
    }
    atomic_write_json(out / "calibration.json", calibration)
    absent = [r["name"] for r in rows if r["f1"] is None]
    metrics = {
        "schema_version": SCHEMA_VERSION,
        "task": "classification",
        **context,
        "images": report.images,
        "headline": {k: finite(v) for k, v in report.headline().items()},
        "classes": rows,
        "absent_classes": absent,
        "calibration": {k: calibration[k] for k in ("available", "ece", "mce", "n_bins")},
        "notes": ([ABSENT_NOTE] if absent else []) + notes,
    }
    atomic_write_json(out / METRICS_FILE, metrics)
    return metrics


def print_classification(metrics: dict[str, Any], title: str) -> None:
    """The headline and per-class tables of a classification `metrics.json` dict, on stderr."""
    print_headline(metrics, title, HEADLINE_LABELS)
    per_class = Table(show_edge=False)
    for column in ("class", "precision", "recall", "F1", "images", "predicted"):
        justify = "left" if column == "class" else "right"
        per_class.add_column(column, justify=justify, overflow="fold")
    for row in metrics["classes"]:
        per_class.add_row(
            literal(row["name"]),
            *(fmt(row[k]) for k in ("precision", "recall", "f1")),
            str(row["support"]),
            str(row["predicted"]),
        )
    console.print(per_class)
    for text in metrics["notes"]:
        note(text)
