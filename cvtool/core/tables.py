"""Rich tables on stderr of an eval dir's `metrics.json`: the headline and one row per class."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from cvtool.core.console import console, literal, note
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


def print_metrics(metrics: dict[str, Any], title: str, columns: Sequence[Column]) -> None:
    """The headline, the per-class `columns` and the notes of a `metrics.json` dict.

    A class row with `present` false (no ground truth and no prediction) reads "absent".
    """
    print_headline(metrics, title)
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
