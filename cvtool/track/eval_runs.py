"""`track eval`: find tracker result folders, score them side by side, write the artifacts.

Artifacts in the output folder: `metrics.csv` (one row per tracker and sequence, plus
`COMBINED`), `summary.json` (the same numbers, the settings and the motmetrics cross-check) and
`plots/metrics.png` (combined scores as grouped bars).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cvtool.core.artifacts import atomic_write_json, atomic_write_text, read_json
from cvtool.core.compare import EvalKind, EvalRow
from cvtool.core.console import note, track
from cvtool.core.errors import CvtoolError
from cvtool.core.outputs import visible
from cvtool.core.provenance import provenance
from cvtool.track.evaluate import COMBINED, SUMMARY_FIELDS, load_ground_truth, score_tracker
from cvtool.track.mot import SeqInfo, find_sequences
from cvtool.track.motmetrics_check import combine_counts, scores_from_counts
from cvtool.track.run import DETECTIONS_DIR

SUMMARY_FILE = "summary.json"
# What an evaluation writes; in a run folder, the tracker folders stay beside them.
OUTPUTS = ("metrics.csv", SUMMARY_FILE, "plots")
# Where TrackEval's and motmetrics' definitions coincide (same matches, same counting).
CROSS_CHECKED = ("MOTA", "IDF1", "IDSW", "FP", "FN")
CROSS_CHECK_NOTE = (
    "motmetrics keeps an object's last match alive across frames in which the object went "
    "unmatched and prefers it again, and its assignment maximises the number of matches; "
    "TrackEval's CLEAR favours only the previous frame's match and maximises total IoU. "
    "In crowded scenes a few ambiguous assignments can fall differently (IDSW, FP, FN off by "
    "a few); IDF1 uses the same global matching in both."
)


def discover_trackers(run_dirs: list[Path]) -> dict[str, Path]:
    """Tracker name -> folder of `<sequence>.txt`: a run dir is such a folder or holds them.

    Hidden folders (names starting with `.`, such as the staging folders of a run in progress)
    are not trackers.
    """
    found: dict[str, Path] = {}
    for run_dir in run_dirs:
        run_dir = Path(run_dir)
        if not run_dir.is_dir():
            raise CvtoolError(f"run directory {run_dir} does not exist")
        if visible(run_dir, "*.txt"):
            folders = [run_dir]
        else:
            folders = sorted(
                p
                for p in visible(run_dir)
                if p.is_dir() and p.name != DETECTIONS_DIR and visible(p, "*.txt")
            )
        if not folders:
            raise CvtoolError(
                f"{run_dir} holds no tracker results",
                "expected <sequence>.txt files, or <tracker>/<sequence>.txt from `cvtool track`",
            )
        for folder in folders:
            if folder.name in found:
                raise CvtoolError(
                    f"two result folders are both named {folder.name!r}: {found[folder.name]} "
                    f"and {folder}",
                    "tracker names come from folder names; rename one",
                )
            found[folder.name] = folder
    return found


def default_output(run_dirs: list[Path]) -> Path:
    """The first run folder (it holds `<tracker>/`); a bare tracker folder is left untouched, so
    it needs an explicit output folder."""
    first = Path(run_dirs[0])
    if not first.is_dir() or not visible(first, "*.txt"):
        return first  # a missing folder is reported by `discover_trackers`
    raise CvtoolError(
        f"{first} is a folder of tracker results, not a run folder; the evaluation is not "
        "written into it",
        "give an output folder for the evaluation",
        param="out",
    )


def select_sequences(
    trackers: dict[str, Path], gt_root: Path, names: list[str] | None
) -> list[SeqInfo]:
    """The named sequences, else every ground-truth sequence some tracker has a result for."""
    if names:
        return find_sequences(gt_root, names)
    all_seqs = find_sequences(gt_root)
    stems = {p.stem for folder in trackers.values() for p in visible(folder, "*.txt")}
    seqs = [s for s in all_seqs if s.name in stems]
    if not seqs:
        raise CvtoolError(
            f"no result file is named after a sequence of {gt_root}",
            f"sequences there: {', '.join(s.name for s in all_seqs)}",
        )
    return seqs


@dataclass
class EvalReport:
    out: Path
    sequences: list[str]
    table: dict[str, dict[str, dict[str, float]]]  # tracker -> sequence|COMBINED -> column
    cross_check: dict[str, dict[str, Any]] = field(default_factory=dict)

    def combined(self) -> dict[str, dict[str, float]]:
        return {tracker: rows[COMBINED] for tracker, rows in self.table.items()}


def evaluate_runs(
    run_dirs: list[Path],
    gt_root: Path,
    out: Path,
    seqs: list[str] | None = None,
    cross_check: bool = True,
    plot: bool = True,
) -> EvalReport:
    """Score every tracker found in `run_dirs` against `gt_root` and write the artifacts to
    `out` (see the module docstring). `seqs`: sequence names (default: those with results)."""
    trackers = discover_trackers(run_dirs)
    selected = select_sequences(trackers, Path(gt_root), seqs)
    gts = {s.name: load_ground_truth(s) for s in track(selected, "loading ground truth")}
    report = EvalReport(out=Path(out), sequences=[s.name for s in selected], table={})
    for name, folder in track(list(trackers.items()), "scoring trackers"):
        scores = score_tracker(name, folder, selected, gts, cross_check=cross_check)
        report.table[name] = scores.table()
        if cross_check:
            report.cross_check[name] = compare_with_motmetrics(
                report.table[name], scores.cross_check
            )
    _write(report, trackers, Path(gt_root), plot)
    return report


def compare_with_motmetrics(
    table: dict[str, dict[str, float]], counts: dict[str, dict[str, float]]
) -> dict:
    """motmetrics' MOTA, IDF1, IDSW, FP, FN per sequence and combined, and where they differ
    from TrackEval's (`table`)."""
    mm = {seq: scores_from_counts(c) for seq, c in counts.items()}
    mm[COMBINED] = scores_from_counts(combine_counts(counts))
    diffs = {
        seq: {k: mm[seq][k] - table[seq][k] for k in CROSS_CHECKED if mm[seq][k] != table[seq][k]}
        for seq in mm
    }
    diffs = {seq: d for seq, d in diffs.items() if any(abs(v) > 1e-9 for v in d.values())}
    return {"motmetrics": mm, "differences": diffs, "agree": not diffs}


def metrics_csv(table: dict[str, dict[str, dict[str, float]]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["tracker", "sequence", *SUMMARY_FIELDS])
    for tracker, rows in table.items():
        for seq, row in rows.items():
            writer.writerow([tracker, seq, *(_fmt(row[c]) for c in SUMMARY_FIELDS)])
    return buffer.getvalue()


def _fmt(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.6f}"


def _write(report: EvalReport, trackers: dict[str, Path], gt_root: Path, plot: bool) -> None:
    try:
        atomic_write_text(report.out / "metrics.csv", metrics_csv(report.table))
        atomic_write_json(
            report.out / SUMMARY_FILE,
            {
                "gt": str(gt_root),
                "trackers": {k: str(v) for k, v in trackers.items()},
                "sequences": report.sequences,
                "rules": "MOTChallenge 2D box (TrackEval): pedestrians, distractors removed",
                "combined": report.combined(),
                "per_sequence": report.table,
                "cross_check": {**report.cross_check, "note": CROSS_CHECK_NOTE}
                if report.cross_check
                else None,
                **provenance("trackeval", "motmetrics"),
            },
        )
        if plot:
            from cvtool.track.plots import plot_metric_bars

            plot_metric_bars(report.combined(), report.out / "plots" / "metrics.png")
    except PermissionError as e:
        raise CvtoolError(
            f"cannot write the evaluation to {report.out} ({e.strerror})",
            "give an output folder you can write to",
            param="out",
        ) from None
    for tracker, check in report.cross_check.items():
        if not check["agree"]:
            note(
                f"motmetrics differs from TrackEval for {tracker} on "
                f"{', '.join(check['differences'])} (see summary.json cross_check)"
            )


def _compared_rows(directory: Path) -> list[EvalRow]:
    """One row per tracker of a `track eval` folder (its combined scores), for `compare`."""
    summary = read_json(directory / SUMMARY_FILE, "tracking evaluation")
    if not isinstance(summary.get("combined"), dict):
        raise CvtoolError(f"{directory / SUMMARY_FILE} holds no combined tracker scores")
    gt = "/".join(Path(str(summary.get("gt", ""))).parts[-2:])  # e.g. MOT17/train
    context = {"gt": gt, "sequences": len(summary["sequences"])}
    return [
        EvalRow(tracker, context, values, directory, f"{directory}:{tracker}")
        for tracker, values in summary["combined"].items()
    ]


TRACKING_KIND = EvalKind(SUMMARY_FILE, "track eval", lambda _: "tracking", _compared_rows)
