"""The side-by-side Rich table of tracker scores (shared by `track eval` and the demo)."""

from __future__ import annotations

from rich.table import Table

from cvtool.core.console import console, literal
from cvtool.core.headline import headline_spec
from cvtool.track.evaluate import COMBINED, SUMMARY_FIELDS

# Error counts beside the headline metrics (cvtool.core.headline) where fewer is better.
COUNTS_LOWER = {"FP", "FN", "ML", "Frag"}


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
    tracking = {m.key: m for m in headline_spec("tracking").metrics}
    lower_is_better = {k for k, m in tracking.items() if not m.higher_is_better} | COUNTS_LOWER
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


def print_comparison(
    table: dict[str, dict[str, dict[str, float]]], per_sequence: bool = True
) -> None:
    console.print(comparison_table(table, per_sequence))
