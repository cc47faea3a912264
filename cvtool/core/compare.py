"""Side-by-side table of the headline metrics of several eval dirs, best value per column."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from cvtool.core.artifacts import atomic_write_text, read_json
from cvtool.core.console import console, literal, warn
from cvtool.core.errors import CvtoolError

# task -> (metrics.json headline key, column label, higher is better)
COLUMNS: dict[str, list[tuple[str, str, bool]]] = {
    "segmentation": [
        ("miou", "mIoU", True),
        ("pixel_accuracy", "pixel acc", True),
        ("mean_class_accuracy", "mean class acc", True),
        ("fw_iou", "fw IoU", True),
        ("mean_ap", "mAP", True),
        ("ece", "ECE", False),
    ],
    "classification": [
        ("accuracy", "accuracy", True),
        ("macro_f1", "macro F1", True),
        ("ece", "ECE", False),
    ],
}


@dataclass
class Comparison:
    task: str
    columns: list[tuple[str, str, bool]]
    labels: list[str]
    splits: list[str]
    images: list[int]
    values: list[dict[str, float | None]]
    dirs: list[Path]

    def cells(self, row: int) -> list[tuple[float | None, bool]]:
        """`(value, is the best of its column)` for each metric column of one row."""
        out = []
        for key, _, higher in self.columns:
            present = [v[key] for v in self.values if v.get(key) is not None]
            best = (max(present) if higher else min(present)) if present else None
            value = self.values[row].get(key)
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
    metas = [read_json(d / "metrics.json", "eval metrics") for d in dirs]
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
    if task not in COLUMNS:
        raise CvtoolError(f"{dirs[0] / 'metrics.json'}: unknown task {task!r}")
    labels = [_label(d, m) for d, m in zip(dirs, metas, strict=True)]
    if len(set(labels)) < len(labels):  # same run names: fall back to the paths
        labels = [str(d) for d in dirs]
    for d, m in zip(dirs, metas, strict=True):
        if "headline" not in m:
            raise CvtoolError(f"{d / 'metrics.json'} has no headline metrics")
    return Comparison(
        task=task,
        columns=COLUMNS[task],
        labels=labels,
        splits=[str(m.get("split", "")) for m in metas],
        images=[int(m.get("images", 0)) for m in metas],
        values=[m["headline"] for m in metas],
        dirs=dirs,
    )


def to_csv(comparison: Comparison) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["model", "split", "images", *(k for k, _, _ in comparison.columns), "eval_dir"]
    )
    for i, label in enumerate(comparison.labels):
        values = ["" if v is None else f"{v:.4f}" for v, _ in comparison.cells(i)]
        row = [label, comparison.splits[i], comparison.images[i], *values, comparison.dirs[i]]
        writer.writerow(row)
    return buffer.getvalue()


def _arrow(higher: bool) -> str:
    return "↑" if higher else "↓"


def to_markdown(comparison: Comparison) -> str:
    """A GitHub table; the best value of each column in bold."""
    header = ["model", "split", "images", *(label for _, label, _ in comparison.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * 3 + "---:|" * len(comparison.columns)]
    for i, label in enumerate(comparison.labels):
        cells = [label, comparison.splits[i], str(comparison.images[i])]
        for value, best in comparison.cells(i):
            text = "—" if value is None else f"{value:.4f}"
            cells.append(f"**{text}**" if best else text)
        lines.append("| " + " | ".join(cells) + " |")
    arrows = ", ".join(f"{label} {_arrow(higher)}" for _, label, higher in comparison.columns)
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
    for _, label, higher in comparison.columns:
        table.add_column(f"{label} {_arrow(higher)}", justify="right", min_width=6, overflow="fold")
    for i, label in enumerate(comparison.labels):
        cells = [
            "—" if value is None else f"[bold green]{value:.4f}[/]" if best else f"{value:.4f}"
            for value, best in comparison.cells(i)
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
