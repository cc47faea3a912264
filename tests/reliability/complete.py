"""Checks that an artifact is complete, as its readers need it: each raises unless so."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from cvtool.core.artifacts import SPLITS, DatasetManifest
from cvtool.core.layout import mask_name, read_split_csv, read_split_list


def dataset(out: Path) -> None:
    """A prepared dataset: its manifest, and every file each split lists."""
    manifest = DatasetManifest.load(out)
    counts = {}
    for split in SPLITS:
        if manifest.task == "segmentation":
            names = read_split_list(out, split)
            files = [out / "images" / n for n in names]
            files += [out / "masks" / mask_name(n) for n in names]
        else:
            names, _ = read_split_csv(out, split, manifest.class_names)
            files = [out / n for n in names]
        assert all(f.is_file() for f in files), f"{out}: {split} lists missing files"
        counts[split] = len(names)
    assert {k: v for k, v in counts.items() if v} == {k: v for k, v in manifest.splits.items() if v}


def json_file(path: Path) -> object:
    return json.loads(path.read_text())


def eval_dir(out: Path) -> None:
    """An eval dir as `compare` and `evaluate --merge` read it."""
    from cvtool.core.evaldir import read_metrics

    metrics = read_metrics(out)
    assert metrics["task"] in ("segmentation", "classification")
    for name in ("per_class.csv", "confusion.csv", "calibration.json"):
        assert (out / name).is_file(), f"{out}: no {name}"


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as f:
        return list(csv.reader(f))


def run_dir(out: Path) -> int:
    """A training run dir that evaluate, export and `train --resume` take; its epochs."""
    from cvtool.engine.checkpoint import checkpoint_manifest, read_checkpoint
    from cvtool.engine.manifest import RunManifest

    recorded = RunManifest.load(out).epochs_completed
    epochs = []
    for name in ("last.pt", "best.pt"):
        path = out / "checkpoints" / name
        epochs.append(checkpoint_manifest(read_checkpoint(path), path).epochs_completed)
    assert 1 <= recorded <= epochs[0] and epochs[1] <= epochs[0]
    assert len(csv_rows(out / "history.csv")) - 1 in (epochs[0], epochs[0] + 1)
    assert (out / "plots" / "curves.png").is_file()
    return epochs[0]
