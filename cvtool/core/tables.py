"""Rich tables on stderr of an eval dir's `metrics.json`: the headline, the calibration (raw
and calibrated model side by side when a calibration was applied) and one row per class."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from cvtool.core.calibration_metrics import SUMMARY_KEYS
from cvtool.core.console import console, literal, note, warn
from cvtool.core.headline import headline_spec


@dataclass(frozen=True)
class Column:
    """A per-class column: a 4-digit score, or (`count`) an integer with thousands separators."""

    key: str
    label: str
    count: bool = False

    def format(self, value: Any) -> str:
        if self.count:
            return f"{value:,}"
        return "—" if value is None else f"{value:.4f}"


def print_headline(metrics: dict[str, Any], title: str) -> None:
    """One row with the task's headline metrics (`metrics["headline"]`)."""
    spec = headline_spec(metrics["task"])
    head = Table(title=literal(f"{title} — {metrics['images']} images"), title_justify="left")
    for metric in spec.metrics:
        head.add_column(metric.label, justify="right", min_width=6, overflow="fold")
    head.add_row(*(m.format(metrics["headline"][m.key]) for m in spec.metrics))
    console.print(head)


CALIBRATION_LABELS = {
    "ece": "ECE",
    "adaptive_ece": "adaptive ECE",
    "mce": "MCE",
    "classwise_ece": "classwise ECE",
    "nll": "NLL",
    "brier": "Brier",
}


def print_calibration(calibration: dict[str, Any]) -> None:
    """The calibration numbers of the model (and of the raw model, when calibrated)."""
    if not calibration.get("available"):
        return
    applied = calibration.get("applied")
    table = Table(title="calibration", title_justify="left")
    table.add_column("model", justify="left")
    for key in SUMMARY_KEYS:
        table.add_column(CALIBRATION_LABELS[key], justify="right", min_width=6)
    rows = [("model", calibration)]
    if applied and "raw" in calibration:
        rows = [("raw", calibration["raw"]), (f"{applied['method']} scaled", calibration)]
    for name, values in rows:
        table.add_row(
            name, *("—" if values[k] is None else f"{values[k]:.4f}" for k in SUMMARY_KEYS)
        )
    console.print(table)
    raw, ece = calibration.get("raw", {}).get("ece"), calibration.get("ece")
    if applied and raw is not None and ece is not None and ece > raw:
        note(
            f"the calibration fitted on split {applied.get('split')!r} raises the ECE here "
            f"({raw:.4f} -> {ece:.4f}): that split may not represent this one (too few images, "
            "or easier or harder ones); fit on a larger, representative held-out split"
        )


def print_metrics(metrics: dict[str, Any], title: str, columns: Sequence[Column]) -> None:
    """The headline, the per-class `columns`, the notes and the warnings of a `metrics.json`
    dict.

    A class row with `present` false (no ground truth and no prediction) reads "absent".
    """
    print_headline(metrics, title)
    print_calibration(metrics.get("calibration", {}))
    per_class = Table(show_edge=False)
    per_class.add_column("class", justify="left", min_width=6, overflow="fold")
    for column in columns:
        per_class.add_column(column.label, justify="right", min_width=6, overflow="fold")
    for row in metrics["classes"]:
        cells = [c.format(row[c.key]) for c in columns]
        if row.get("present") is False:
            scores = [i for i, c in enumerate(columns) if not c.count]
            for i in scores:
                cells[i] = "[dim]absent[/]" if i == scores[0] else ""
        per_class.add_row(literal(row["name"]), *cells)
    console.print(per_class)
    for text in metrics["notes"]:
        note(text)
    for text in metrics.get("warnings", []):  # eval dirs of older versions have none
        warn(text)
