"""The side-by-side Rich table of tracker scores (shared by `track eval` and the demo)."""

from __future__ import annotations

from rich.table import Table

from cvtool.core.console import console, literal
from cvtool.track.evaluate import COMBINED, SUMMARY_FIELDS


def comparison_table(
    table: dict[str, dict[str, dict[str, float]]], per_sequence: bool = True
) -> Table:
    """Rows per sequence (optional) and combined, one row per tracker; best combined in bold.
    Tracker and sequence names are shown literally (they are folder names)."""
    out = Table(title="Tracking (MOTChallenge rules, TrackEval)")
    out.add_column("sequence")
    out.add_column("tracker")
    for column in SUMMARY_FIELDS:
        out.add_column(column, justify="right")
    sequences = [s for s in next(iter(table.values())) if per_sequence or s == COMBINED]
    lower_is_better = {"IDSW", "FP", "FN", "ML", "Frag"}
    for seq in sequences:
        best = {}
        for column in SUMMARY_FIELDS:
            values = [rows[seq][column] for rows in table.values()]
            best[column] = min(values) if column in lower_is_better else max(values)
        for i, (tracker, rows) in enumerate(table.items()):
            cells = []
            for column in SUMMARY_FIELDS:
                value = rows[seq][column]
                text = f"{value:.3f}" if isinstance(value, float) else str(value)
                bold = seq == COMBINED and len(table) > 1 and value == best[column]
                cells.append(literal(text, "bold" if bold else ""))
            out.add_row(
                literal(seq if i == 0 else ""),
                literal(tracker),
                *cells,
                end_section=i == len(table) - 1,
            )
    return out


def print_wide(renderable: object, width: int = 150) -> None:
    """Print on stderr; piped output (no terminal) gets `width` columns instead of 80."""
    saved = console.width
    if not console.is_terminal:
        console.width = max(saved, width)
    try:
        console.print(renderable)
    finally:
        console.width = saved


def print_comparison(
    table: dict[str, dict[str, dict[str, float]]], per_sequence: bool = True
) -> None:
    print_wide(comparison_table(table, per_sequence))
