"""`cvtool compare` on `track eval` folders: one row per tracker, full precision on disk."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from cvtool.synthetic.tracks import SyntheticConfig, write_sequence
from cvtool.track.eval_runs import evaluate_runs
from cvtool.track.registry import make_config
from cvtool.track.run import run_tracker


@pytest.fixture
def tracking_evals(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Ground truth, and two `track eval` folders: {bytetrack, iou} and {iou-hungarian}."""
    data = tmp_path / "data"
    seqs = [write_sequence(data, SyntheticConfig(frames=40, objects=5, seed=2), "SYN-01")]
    first, second = tmp_path / "first", tmp_path / "second"
    run_tracker(seqs, "bytetrack", first)
    run_tracker(seqs, "iou", first)
    run_tracker(seqs, "iou", second, config=make_config("iou", hungarian=True))
    (second / "iou").rename(second / "iou-hungarian")
    for run in (first, second):
        evaluate_runs([run], data, run, cross_check=False, plot=False)
    return data, first, second


def test_compare_tracking_eval_dirs(cli, tracking_evals, tmp_path: Path) -> None:
    _, first, second = tracking_evals
    result = cli("compare", first, second, "--out", tmp_path / "cmp", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["task"] == "tracking"
    assert [m["model"] for m in summary["models"]] == ["bytetrack", "iou", "iou-hungarian"]
    assert "tracking comparison" in result.stderr and "HOTA" in result.stderr
    combined = {
        **json.loads((first / "summary.json").read_text())["combined"],
        **json.loads((second / "summary.json").read_text())["combined"],
    }
    with (tmp_path / "cmp" / "comparison.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "model", "gt", "sequences", "HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW", "eval_dir",
    ]  # fmt: skip
    for row in rows:
        scores = combined[row["model"]]
        assert float(row["HOTA"]) == scores["HOTA"] and float(row["IDF1"]) == scores["IDF1"]
        assert int(row["IDSW"]) == scores["IDSW"] and row["sequences"] == "1"
    markdown = (tmp_path / "cmp" / "comparison.md").read_text()
    best = max(rows, key=lambda row: float(row["HOTA"]))
    line = next(line for line in markdown.splitlines() if line.startswith(f"| {best['model']} "))
    assert f"**{float(best['HOTA'])!r}**" in line and "IDSW ↓" in markdown


def test_same_tracker_in_two_folders_is_named_by_path(cli, tracking_evals, tmp_path) -> None:
    data, first, _ = tracking_evals
    again = tmp_path / "again"
    run_tracker(
        [write_sequence(data, SyntheticConfig(frames=40, objects=5, seed=2), "SYN-01")],
        "iou",
        again,
    )
    evaluate_runs([again], data, again, cross_check=False, plot=False)
    result = cli("compare", first, again, "--out", tmp_path / "cmp", "--json")
    assert result.exit_code == 0, result.stderr
    models = [m["model"] for m in json.loads(result.stdout)["models"]]
    assert models == [f"{first}:bytetrack", f"{first}:iou", f"{again}:iou"]
