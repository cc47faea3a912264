"""Every prepare stage killed at its file operations: the dataset dir (or the stats folder) is
the old one or the complete new one, readers refuse the staging left, a re-run succeeds."""

from __future__ import annotations

import os
from pathlib import Path

import complete
import pytest
from corpus import camvid_raw, coco_raw, image_folder, voc_pairs
from faults import sweep

import cvtool
from cvtool.core.artifacts import DatasetManifest

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    pytest.mark.usefixtures("one_thread", "quick_figures"),
]


def _refuse_dataset(staging: Path) -> None:
    DatasetManifest.load(staging)


def _sweep_dataset(stage: str, tmp_path: Path, old, new) -> None:
    """`old()` writes the old version of `tmp_path/out/data`, `new()` replaces it."""
    out = tmp_path / "out" / "data"
    old(out)
    sweep(stage, {out: complete.dataset}, lambda: new(out), tmp_path, refuse=_refuse_dataset)


def test_prepare_coco(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    coco_raw(raw).write()

    def prepare(out: Path, classes: str) -> None:
        cvtool.prepare_coco(
            raw / "instances.json", raw / "images", classes, out, workers=1, overwrite=True
        )

    _sweep_dataset(
        "prepare coco",
        tmp_path,
        lambda out: prepare(out, "person"),
        lambda out: prepare(out, "person,car"),
    )


def test_prepare_camvid(tmp_path: Path) -> None:
    root = camvid_raw(tmp_path / "camvid")

    def prepare(out: Path, void: str) -> None:
        cvtool.prepare_camvid(root, out, void=void, workers=1, overwrite=True)

    _sweep_dataset(
        "prepare camvid",
        tmp_path,
        lambda out: prepare(out, "class"),
        lambda out: prepare(out, "ignore"),
    )


def test_prepare_voc(tmp_path: Path) -> None:
    root = voc_pairs(tmp_path / "voc", n=4)

    def prepare(out: Path, split: tuple[float, ...]) -> None:
        cvtool.prepare_voc(root, out, split=split, workers=1, overwrite=True)

    _sweep_dataset(
        "prepare voc",
        tmp_path,
        lambda out: prepare(out, (1.0, 0.0, 0.0)),
        lambda out: prepare(out, (0.5, 0.25, 0.25)),
    )


def test_prepare_folder(tmp_path: Path) -> None:
    root = image_folder(tmp_path / "folder")

    def prepare(out: Path, val: float) -> None:
        cvtool.prepare_folder(root, out, val=val, workers=1, overwrite=True)

    _sweep_dataset(
        "prepare folder",
        tmp_path,
        lambda out: prepare(out, 0.25),
        lambda out: prepare(out, 0.5),
    )


def _stats(out: Path) -> None:
    rows = complete.csv_rows(out / "class_distribution.csv")
    assert rows[0][0] == "class" and len(rows) > 1
    assert (out / "class_distribution.png").read_bytes()[:4] == b"\x89PNG"


def test_prepare_stats(tmp_path: Path, seg_data: Path, cls_data: Path) -> None:
    out = tmp_path / "stats"
    cvtool.dataset_stats(cls_data, out, workers=1)
    write = lambda: cvtool.dataset_stats(seg_data, out, workers=1, overwrite=True)  # noqa: E731
    sweep("prepare stats", {out: _stats}, write, tmp_path)
