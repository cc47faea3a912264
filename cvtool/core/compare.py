"""Side-by-side table of the headline metrics of several eval dirs, best value per column."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from cvtool.core.artifacts import atomic_write_text, csv_text
from cvtool.core.console import console, literal, warn
from cvtool.core.errors import CvtoolError
from cvtool.core.evaldir import METRICS_FILE, read_metrics
from cvtool.core.headline import HEADLINES, Metric

EVAL_TASKS = ("segmentation", "classification")  # the tasks whose eval dirs hold metrics.json


@dataclass
class Comparison:
    task: str
    columns: tuple[Metric, ...]
    labels: list[str]
    splits: list[str]
    images: list[int]
    values: list[dict[str, float | None]]
    dirs: list[Path]

    def cells(self, row: int) -> list[tuple[float | None, bool]]:
        """`(value, is the best of its column)` for each metric column of one row."""
        out = []
        for metric in self.columns:
            best = metric.best(v.get(metric.key) for v in self.values)
            value = self.values[row].get(metric.key)
            out.append((value, value is not None and value == best))
        return out


def _label(directory: Path, metrics: dict[str, Any]) -> str:
    source = metrics.get("source") or {}
    return str(source.get("name") or directory.resolve().parent.name)


def load_comparison(eval_dirs: Sequence[str | os.PathLike[str]]) -> Comparison:
    """Read each eval dir's `metrics.json`; all must be of one task."""
    dirs = [Path(d) for d in eval_dirs]
    if not dirs:
        raise CvtoolError("no eval directories to compare")
    metas = [read_metrics(d, "source") for d in dirs]
    by_task: dict[str, list[str]] = {}
    for d, m in zip(dirs, metas, strict=True):
        by_task.setdefault(str(m.get("task")), []).append(str(d))
    if len(by_task) != 1:
        listing = "; ".join(f"{task}: {', '.join(ds)}" for task, ds in by_task.items())
        raise CvtoolError(
            f"cannot compare evaluations of different tasks ({listing})",
            "their metrics differ (mIoU vs accuracy); compare each task's eval dirs separately",
        )
    task = next(iter(by_task))
    if task not in EVAL_TASKS:
        raise CvtoolError(f"{dirs[0] / METRICS_FILE}: unknown task {task!r}")
    labels = [_label(d, m) for d, m in zip(dirs, metas, strict=True)]
    if len(set(labels)) < len(labels):  # same run names: fall back to the paths
        labels = [str(d) for d in dirs]
    return Comparison(
        task=task,
        columns=HEADLINES[task].compared,
        labels=labels,
        splits=[str(m.get("split", "")) for m in metas],
        images=[int(m.get("images", 0)) for m in metas],
        values=[m["headline"] for m in metas],
        dirs=dirs,
    )


def to_csv(comparison: Comparison) -> str:
    header = ["model", "split", "images", *(m.key for m in comparison.columns), "eval_dir"]
    rows = []
    for i, label in enumerate(comparison.labels):
        values = [
            None if v is None else m.format(v)
            for m, (v, _) in zip(comparison.columns, comparison.cells(i), strict=True)
        ]
        rows.append(
            [label, comparison.splits[i], comparison.images[i], *values, comparison.dirs[i]]
        )
    return csv_text(header, rows)


def to_markdown(comparison: Comparison) -> str:
    """A GitHub table; the best value of each column in bold."""
    header = ["model", "split", "images", *(m.label for m in comparison.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * 3 + "---:|" * len(comparison.columns)]
    for i, label in enumerate(comparison.labels):
        cells = [label, comparison.splits[i], str(comparison.images[i])]
        for metric, (value, best) in zip(comparison.columns, comparison.cells(i), strict=True):
            text = metric.format(value)
            cells.append(f"**{text}**" if best else text)
        lines.append("| " + " | ".join(cells) + " |")
    arrows = ", ".join(f"{m.label} {m.arrow}" for m in comparison.columns)
    return "\n".join(lines) + f"\n\nBest per column in bold ({arrows}).\n"


def print_comparison(comparison: Comparison) -> None:
    """The table on stderr; split and image count go to the title when every row shares them."""
    uniform = len(set(zip(comparison.splits, comparison.images, strict=True))) == 1
    title = f"{comparison.task} comparison"
    if uniform:
        title += f" — {comparison.splits[0]} split, {comparison.images[0]} images"
    table = Table(title=literal(title), title_justify="left")
    table.add_column("model", overflow="fold", min_width=10)
    if not uniform:
        table.add_column("split", overflow="fold")
        table.add_column("images", justify="right", overflow="fold")
    for metric in comparison.columns:
        table.add_column(
            f"{metric.label} {metric.arrow}", justify="right", min_width=6, overflow="fold"
        )
    for i, label in enumerate(comparison.labels):
        cells = [
            f"[bold green]{metric.format(value)}[/]" if best else metric.format(value)
            for metric, (value, best) in zip(comparison.columns, comparison.cells(i), strict=True)
        ]
        where = [] if uniform else [literal(comparison.splits[i]), str(comparison.images[i])]
        table.add_row(literal(label), *where, *cells)
    console.print(table)
    if len(set(comparison.splits)) > 1:
        warn("the evaluations are on different splits")


def compare_evaluations(
    eval_dirs: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str]
) -> tuple[Path, Comparison]:
    """Write `comparison.csv` and `comparison.md` into `out`, print the table; return `out`."""
    comparison = load_comparison(eval_dirs)
    out = Path(out)
    atomic_write_text(out / "comparison.csv", to_csv(comparison))
    atomic_write_text(out / "comparison.md", to_markdown(comparison))
    print_comparison(comparison)
    return out, comparison
