"""A classifier's eval dir from a `ClassificationReport`.

The shared files come from `cvtool.core.evaldir` (task `classification`); this adds the
per-class precision/recall/F1 rows. The runner adds `predictions.csv`,
`failures/misclassified.png` and the t-SNE outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cvtool.classify.metrics import ClassificationReport
from cvtool.core.artifacts import ClassInfo
from cvtool.core.evaldir import EvalResult, calibration_info, finite, write_eval_dir
from cvtool.core.finite import nonfinite_warnings
from cvtool.core.tables import Column

CLASS_COLUMNS = (
    Column("precision", "precision"),
    Column("recall", "recall"),
    Column("f1", "F1"),
    Column("support", "images", count=True),
    Column("predicted", "predicted", count=True),
)
CONFIDENCE = (
    "top-1 softmax probability; classwise ECE: each class's probability against whether the "
    "image is of that class"
)
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
    rows = class_rows(report, classes)
    absent = [r["name"] for r in rows if r["f1"] is None]
    result = EvalResult(
        task="classification",
        images=report.images,
        headline=report.headline(),
        class_names=[c.name for c in classes],
        rows=rows,
        absent=absent,
        confusion=report.confusion,
        calibration=report.calibration,
        notes=([ABSENT_NOTE] if absent else []) + notes,
        calibration_info=calibration_info(CONFIDENCE, context),
        raw_calibration=report.raw_calibration,
        warnings=nonfinite_warnings(context, report.images),
    )
    return write_eval_dir(out, result, context, title)
