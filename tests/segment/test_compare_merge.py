"""`cvtool compare` tables and `cvtool evaluate --merge` of shards."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np

from tests.segment.conftest import write_predictions


def _evaluate(cli, pred_dir, dataset, out, *extra):
    result = cli("evaluate", "--predictions", pred_dir, "--data", dataset, "--out", out,
                 "--workers", 1, *extra)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return json.loads((out / "metrics.json").read_text())


def test_shards_merge_to_the_single_pass(cli, dataset, predictions, tmp_path):
    pred_dir, _ = predictions
    whole = _evaluate(cli, pred_dir, dataset, tmp_path / "whole")
    s0 = _evaluate(cli, pred_dir, dataset, tmp_path / "s0", "--shard", "0/2")
    s1 = _evaluate(cli, pred_dir, dataset, tmp_path / "s1", "--shard", "1/2")
    assert (s0["images"], s1["images"]) == (2, 2)
    result = cli("evaluate", "--merge", tmp_path / "s0", tmp_path / "s1", "--out", tmp_path / "m")
    assert result.exit_code == 0, result.stderr
    merged = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert merged["headline"] == whole["headline"]
    assert merged["classes"] == whole["classes"]
    assert merged["iou_histogram"] == whole["iou_histogram"]
    assert merged["images"] == merged["split_images"] == 4
    assert (tmp_path / "m" / "confusion.csv").read_text() == (
        tmp_path / "whole" / "confusion.csv"
    ).read_text()
    rows = lambda d: sorted(csv.reader((d / "per_image.csv").open()))  # noqa: E731
    assert rows(tmp_path / "m") == rows(tmp_path / "whole")
    assert [f["name"] for f in merged["failures"]] == [f["name"] for f in whole["failures"]]
    for f in merged["failures"]:
        assert (tmp_path / "m" / f["file"]).is_file()


def _merge(cli, out, *dirs):
    return cli("evaluate", "--merge", *dirs, "--out", out)


def test_merge_needs_every_shard_once(cli, dataset, predictions, tmp_path):
    pred_dir, _ = predictions
    s = [tmp_path / f"s{i}" for i in range(3)]
    for i, d in enumerate(s):
        assert _evaluate(cli, pred_dir, dataset, d, "--shard", f"{i}/3")["split_images"] == 4
    out = tmp_path / "m"
    result = _merge(cli, out, s[0], s[2])
    assert result.exit_code == 1
    assert "shards 1/3 missing: merging needs all 3 shards of the evaluation" in result.stderr
    shutil.copytree(s[0], tmp_path / "s0-again")
    result = _merge(cli, out, *s, tmp_path / "s0-again")
    assert result.exit_code == 1
    twice = f"shards given more than once: 0/3 in {s[0]}, {tmp_path / 's0-again'}"
    assert twice in result.stderr
    _evaluate(cli, pred_dir, dataset, tmp_path / "half", "--shard", "1/2")
    result = _merge(cli, out, s[0], tmp_path / "half", s[2])
    assert result.exit_code == 1 and "different numbers of shards" in result.stderr
    assert f"1/2 ({tmp_path / 'half'})" in result.stderr
    _evaluate(cli, pred_dir, dataset, tmp_path / "all")
    result = _merge(cli, out, *s, tmp_path / "all")
    assert result.exit_code == 1
    assert f"{tmp_path / 'all' / 'metrics.json'} is unsharded, not a shard" in result.stderr
    assert not out.exists()
    assert _merge(cli, out, *s).exit_code == 0
    merged = json.loads((out / "metrics.json").read_text())
    assert merged["images"] == merged["split_images"] == 4 and merged["shard"] is None
    result = _merge(cli, tmp_path / "m2", out, s[0])
    assert result.exit_code == 1 and "is a merge of 3 shards, not a shard" in result.stderr


def test_merge_checks_the_split_size(cli, dataset, predictions, tmp_path):
    pred_dir, _ = predictions
    dirs = [tmp_path / "s0", tmp_path / "s1"]
    for i, d in enumerate(dirs):
        _evaluate(cli, pred_dir, dataset, d, "--shard", f"{i}/2")
    for d in dirs:  # as if the split had 5 images when the shards were made
        metrics = json.loads((d / "metrics.json").read_text())
        (d / "metrics.json").write_text(json.dumps({**metrics, "split_images": 5}))
    result = _merge(cli, tmp_path / "m", *dirs)
    assert result.exit_code == 1
    assert "the shards hold 4 images but the split they come from has 5" in result.stderr
    for d in dirs:  # eval dirs of an older version: no split size, merged with a note
        metrics = json.loads((d / "metrics.json").read_text())
        del metrics["split_images"]
        (d / "metrics.json").write_text(json.dumps(metrics))
    result = _merge(cli, tmp_path / "m", *dirs)
    assert result.exit_code == 0, result.stderr
    assert "do not record their split's size" in result.stderr


def test_merge_refuses_overlapping_or_foreign_shards(cli, dataset, predictions, masks, tmp_path):
    pred_dir, _ = predictions
    _evaluate(cli, pred_dir, dataset, tmp_path / "s0", "--shard", "0/2")
    other = write_predictions(tmp_path / "other", {n: np.zeros((6, 8), np.uint8) for n in masks})
    _evaluate(cli, other, dataset, tmp_path / "o1", "--shard", "1/2")
    result = cli("evaluate", "--merge", tmp_path / "s0", tmp_path / "o1", "--out", tmp_path / "m")
    assert result.exit_code == 1 and "only shards of one evaluation" in result.stderr
    result = cli("evaluate", "--merge", tmp_path / "s0", tmp_path / "nope", "--out", tmp_path / "m")
    assert result.exit_code == 1 and "nope/metrics.json" in result.stderr
    assert not (tmp_path / "m").exists()
    result = cli("evaluate", "--predictions", pred_dir, "--data", dataset, "--shard", "2/2")
    assert result.exit_code == 2 and "--shard '2/2': INDEX must be in 0..COUNT-1" in (result.stderr)


def test_compare_marks_best_values(cli, dataset, predictions, masks, tmp_path):
    pred_dir, _ = predictions
    perfect = write_predictions(
        tmp_path / "perfect",
        {n: np.where(m == 255, 0, m).astype(np.uint8) for n, m in masks.items()},
    )
    noisy = _evaluate(cli, pred_dir, dataset, tmp_path / "noisy")
    good = _evaluate(cli, perfect, dataset, tmp_path / "good")
    result = cli(
        "compare", tmp_path / "noisy", tmp_path / "good", "--out", tmp_path / "cmp", "--json"
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert [m["model"] for m in summary["models"]] == ["preds", "perfect"]
    table = list(csv.DictReader((tmp_path / "cmp" / "comparison.csv").open()))
    assert float(table[0]["miou"]) == noisy["headline"]["miou"]  # full precision
    assert float(table[1]["miou"]) == good["headline"]["miou"]
    assert table[0]["ece"] == ""  # predictions carry no calibration
    markdown = (tmp_path / "cmp" / "comparison.md").read_text()
    good_row = next(line for line in markdown.splitlines() if line.startswith("| perfect"))
    noisy_row = next(line for line in markdown.splitlines() if line.startswith("| preds"))
    assert "**1.0**" in good_row and "**" not in noisy_row
    assert "mIoU" in result.stderr


def test_compare_bad_inputs(cli, dataset, predictions, tmp_path):
    result = cli("compare", tmp_path / "missing", "--out", tmp_path / "cmp")
    assert result.exit_code == 1 and "missing/metrics.json" in result.stderr
    pred_dir, _ = predictions
    _evaluate(cli, pred_dir, dataset, tmp_path / "seg")
    (tmp_path / "cls").mkdir()
    other = {"task": "classification", "images": 1, "headline": {}, "source": {}}
    (tmp_path / "cls" / "metrics.json").write_text(json.dumps(other))
    result = cli("compare", tmp_path / "seg", tmp_path / "cls", "--out", tmp_path / "cmp")
    assert result.exit_code == 1 and "different tasks" in result.stderr
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "metrics.json").write_text("{oops")
    result = cli("compare", tmp_path / "bad", "--out", tmp_path / "cmp")
    assert result.exit_code == 1 and "not valid JSON" in result.stderr
