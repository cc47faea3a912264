"""Rich tables on stderr: the headline numbers and one row per class."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from cvtool.core.console import console, literal, note

HEADLINE_LABELS = {
    "miou": "mIoU",
    "pixel_accuracy": "pixel acc",
    "mean_class_accuracy": "mean class acc",
    "fw_iou": "fw IoU",
    "mean_ap": "mAP (pixel)",
    "ece": "ECE",
    "mce": "MCE",
}


def fmt(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def print_headline(metrics: dict[str, Any], title: str, labels: dict[str, str]) -> None:
    """One-row table of `metrics["headline"][key]` for each key of `labels`, on stderr."""
    head = Table(title=literal(f"{title} — {metrics['images']} images"), title_justify="left")
    for label in labels.values():
        head.add_column(label, justify="right", min_width=6, overflow="fold")
    head.add_row(*(fmt(metrics["headline"][key]) for key in labels))
    console.print(head)


def print_metrics(metrics: dict[str, Any], title: str) -> None:
    """Print the headline and per-class tables of a `metrics.json` dict."""
    print_headline(metrics, title, HEADLINE_LABELS)

    per_class = Table(show_edge=False)
    for column in ("class", "IoU", "Dice", "precision", "recall", "AP", "pixels"):
        justify = "left" if column == "class" else "right"
        per_class.add_column(column, justify=justify, min_width=6, overflow="fold")
    for row in metrics["classes"]:
        if not row["present"]:
            per_class.add_row(literal(row["name"]), "[dim]absent[/]", "", "", "", "", "0")
            continue
        per_class.add_row(
            literal(row["name"]),
            *(fmt(row[k]) for k in ("iou", "dice", "precision", "recall", "ap")),
            f"{row['support']:,}",
        )
    console.print(per_class)
    for text in metrics["notes"]:
        note(text)
