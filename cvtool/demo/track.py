"""The tracking leg of `cvtool demo`: both trackers on a synthetic sequence, scored."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cvtool.core.artifacts import staged_output_dir
from cvtool.synthetic.tracks import SyntheticConfig, write_sequence
from cvtool.track.eval_runs import OUTPUTS, evaluate_runs
from cvtool.track.run import run_tracker
from cvtool.track.table import print_comparison

DEMO_TRACKERS = ("iou", "bytetrack")


@dataclass
class TrackDemoResult:
    out: Path  # holds data/, runs/<tracker>/, runs/metrics.csv, runs/summary.json, runs/plots/
    metrics: dict[str, dict[str, float]]  # tracker -> combined HOTA, DetA, ..., Frag


def run_track_demo(out: Path, seed: int = 0) -> TrackDemoResult:
    """Generate a synthetic sequence in `out/data`, track it with the IoU tracker and ByteTrack,
    score both (TrackEval) and print the comparison table on stderr. Takes a few seconds."""
    out = Path(out)
    seq = write_sequence(out / "data", SyntheticConfig(seed=seed))
    runs = out / "runs"
    for tracker in DEMO_TRACKERS:
        run_tracker([seq], tracker, runs, overwrite=True)
    with staged_output_dir(runs, overwrite=True, owns=OUTPUTS) as stage:
        report = evaluate_runs([runs], out / "data", stage)
    print_comparison(report.table, per_sequence=False)
    return TrackDemoResult(out=out, metrics=report.combined())
