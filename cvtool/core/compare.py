"""Side-by-side table of the headline metrics of several eval dirs, best value per column.

Every kind of eval dir becomes rows of one task: `evaluate`'s `metrics.json` (segmentation or
classification, one row), and through readers that the task packages provide (see `EvalKind`),
`detect eval`'s files (detection, one row) and `track eval`'s `summary.json` (tracking, one row
per tracker). The columns and which way is better come from `cvtool.core.headline`. The CSV and
Markdown files hold every value at full precision; the table on stderr rounds.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
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
class EvalRow:
    """One compared model: its label, where it was evaluated (`context`: split and images, the
    annotations, or the ground truth and sequences), its headline values and its eval dir.
    `fallback` names it when labels repeat."""

    label: str
    context: dict[str, Any]
    values: dict[str, float | None]
    source: Path
    fallback: str


@dataclass(frozen=True)
class EvalKind:
    """One kind of eval dir: the file that marks it, the stage that writes it, its task (read
    first, so that mixed tasks are refused before anything else) and a reader of its rows."""

    marker: str
    stage: str
    task: Callable[[Path], str]
    read: Callable[[Path], list[EvalRow]]


@dataclass
class Comparison:
    task: str
    columns: tuple[Metric, ...]
    rows: list[EvalRow]

    @property
    def context_keys(self) -> list[str]:
        return list(dict.fromkeys(key for row in self.rows for key in row.context))

    def cells(self, row: int) -> list[tuple[float | None, bool]]:
        """`(value, is the best of its column)` for each metric column of one row."""
        out = []
        for metric in self.columns:
            best = metric.best(r.values.get(metric.key) for r in self.rows)
            value = self.rows[row].values.get(metric.key)
            out.append((value, value is not None and value == best))
        return out


def _metrics_task(directory: Path) -> str:
    task = read_metrics(directory, "source")["task"]
    if task not in EVAL_TASKS:
        raise CvtoolError(f"{directory / METRICS_FILE}: unknown task {task!r}")
    return task


def _metrics_rows(directory: Path) -> list[EvalRow]:
    """The one row of a segmentation or classification eval dir (`metrics.json`)."""
    meta = read_metrics(directory, "source")
    label = str(meta["source"].get("name") or directory.resolve().parent.name)
    context = {"split": str(meta.get("split", "")), "images": meta["images"]}
    return [EvalRow(label, context, meta["headline"], directory, str(directory))]


METRICS_KIND = EvalKind(METRICS_FILE, "evaluate", _metrics_task, _metrics_rows)


def load_comparison(
    eval_dirs: Sequence[str | os.PathLike[str]], kinds: Sequence[EvalKind] = (METRICS_KIND,)
) -> Comparison:
    """Read each eval dir with the reader of its kind; all must be of one task. The same dir
    given twice is read once."""
    dirs = [Path(d) for d in eval_dirs]
    if not dirs:
        raise CvtoolError("no eval directories to compare")
    kind_of = {directory: _kind_of(directory, kinds) for directory in dirs}
    by_task: dict[str, list[str]] = {}
    for directory, kind in kind_of.items():
        by_task.setdefault(kind.task(directory), []).append(str(directory))
    if len(by_task) != 1:
        listing = "; ".join(f"{task}: {', '.join(ds)}" for task, ds in by_task.items())
        raise CvtoolError(
            f"cannot compare evaluations of different tasks ({listing})",
            "their metrics differ (mIoU, accuracy, AP, HOTA); compare each task's eval dirs "
            "separately",
        )
    task = next(iter(by_task))
    columns = HEADLINES[task].compared
    rows = [row for d, kind in kind_of.items() for row in _read_rows(d, kind, columns)]
    if not rows:
        raise CvtoolError(f"{', '.join(map(str, dirs))}: no evaluations to compare")
    labels = [row.label for row in rows]
    if len(set(labels)) < len(labels):  # same names: fall back to the paths
        for row in rows:
            row.label = row.fallback
    return Comparison(task=task, columns=columns, rows=rows)


def _read_rows(directory: Path, kind: EvalKind, columns: Sequence[Metric]) -> list[EvalRow]:
    """The rows of one eval dir, refused with the file named when its reader meets something
    its stage never writes (an edited or damaged file) or a value that is not a number."""
    where = directory / kind.marker
    try:
        rows = kind.read(directory)
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        raise CvtoolError(
            f"{where} (or a file beside it) is not what `{kind.stage}` writes: "
            f"{type(e).__name__} {e}",
            f"run `cvtool {kind.stage}` again to rewrite it",
        ) from None
    for row in rows:
        if not isinstance(row.values, dict):
            raise CvtoolError(f"{where}: the scores of {row.label} are not a mapping")
        for metric in columns:
            value = row.values.get(metric.key)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if value is not None and not number:
                raise CvtoolError(
                    f"{where}: {metric.key} of {row.label} is {value!r}, not a number",
                    f"the file was edited or damaged; run `cvtool {kind.stage}` again",
                )
    return rows


def _kind_of(directory: Path, kinds: Sequence[EvalKind]) -> EvalKind:
    for kind in kinds:
        if (directory / kind.marker).is_file():
            return kind
    expected = ", ".join(f"{directory / kind.marker} ({kind.stage})" for kind in kinds)
    raise CvtoolError(
        f"{directory} is not an eval directory: none of {expected} exists",
        "pass directories written by evaluate, detect eval or track eval",
    )


def exact(value: float | None) -> str:
    """`value` at full precision (the shortest text that reads back as the same float)."""
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else repr(float(value))


def to_csv(comparison: Comparison) -> str:
    context = comparison.context_keys
    header = ["model", *context, *(m.key for m in comparison.columns), "eval_dir"]
    rows = [
        [
            row.label,
            *(row.context.get(key) for key in context),
            *(exact(value) for value, _ in comparison.cells(i)),
            row.source,
        ]
        for i, row in enumerate(comparison.rows)
    ]
    return csv_text(header, rows)


def to_markdown(comparison: Comparison) -> str:
    """A GitHub table at full precision; the best value of each column in bold."""
    context = comparison.context_keys
    header = ["model", *context, *(m.label for m in comparison.columns)]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * (1 + len(context)) + "---:|" * len(comparison.columns),
    ]
    for i, row in enumerate(comparison.rows):
        cells = [row.label, *(str(row.context.get(key, "")) for key in context)]
        for value, best in comparison.cells(i):
            text = exact(value) or "—"
            cells.append(f"**{text}**" if best else text)
        lines.append("| " + " | ".join(cells) + " |")
    arrows = ", ".join(f"{m.label} {m.arrow}" for m in comparison.columns)
    return "\n".join(lines) + f"\n\nBest per column in bold ({arrows}).\n"


def print_comparison(comparison: Comparison) -> None:
    """The table on stderr; the context (split, images, ground truth, ...) goes to the title
    when every row shares it, and a warning names what differs."""
    context = comparison.context_keys
    shared = [k for k in context if len({str(r.context.get(k)) for r in comparison.rows}) == 1]
    title = f"{comparison.task} comparison"
    if shared:
        first = comparison.rows[0].context
        title += " — " + ", ".join(f"{key} {first[key]}" for key in shared)
    table = Table(title=literal(title), title_justify="left")
    table.add_column("model", overflow="fold", min_width=10)
    differing = [key for key in context if key not in shared]
    for key in differing:
        table.add_column(key, overflow="fold")
    for metric in comparison.columns:
        table.add_column(
            f"{metric.label} {metric.arrow}", justify="right", min_width=6, overflow="fold"
        )
    for i, row in enumerate(comparison.rows):
        cells = [
            f"[bold green]{metric.format(value)}[/]" if best else metric.format(value)
            for metric, (value, best) in zip(comparison.columns, comparison.cells(i), strict=True)
        ]
        where = [literal(str(row.context.get(key, ""))) for key in differing]
        table.add_row(literal(row.label), *where, *cells)
    console.print(table)
    if differing:
        warn(f"the evaluations differ in {', '.join(differing)}")


def compare_evaluations(
    eval_dirs: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    kinds: Sequence[EvalKind] = (METRICS_KIND,),
) -> tuple[Path, Comparison]:
    """Write `comparison.csv` and `comparison.md` into `out`, print the table; return `out`."""
    comparison = load_comparison(eval_dirs, kinds)
    out = Path(out)
    atomic_write_text(out / "comparison.csv", to_csv(comparison))
    atomic_write_text(out / "comparison.md", to_markdown(comparison))
    print_comparison(comparison)
    return out, comparison
