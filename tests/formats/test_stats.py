"""`prepare stats`: exact class counts per split, the CSV and the chart."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from prepare_helpers import write_image

from cvtool.core.artifacts import ClassInfo, DatasetManifest, atomic_write_text
from cvtool.core.errors import CvtoolError
from cvtool.formats.stats import class_distribution


def _segmentation_dir(root: Path) -> None:
    masks = {
        "a.png": np.array([[0, 1, 1], [2, 255, 0]], np.uint8),
        "b.png": np.array([[1, 1, 1], [1, 7, 0]], np.uint8),  # 7: not a class
        "c.png": np.array([[2, 2, 2], [2, 2, 2]], np.uint8),
    }
    for name, mask in masks.items():
        write_image(root / "images" / name, 2, 3)
        (root / "masks").mkdir(parents=True, exist_ok=True)
        Image.fromarray(mask, mode="L").save(root / "masks" / name)
    for split, names in {"train": "a.png\nb.png\n", "val": "c.png\n", "test": ""}.items():
        atomic_write_text(root / "splits" / f"{split}.txt", names)
    classes = [ClassInfo(i, n, (i, i, i)) for i, n in enumerate(["bg", "cat", "dog"])]
    DatasetManifest(task="segmentation", classes=classes).save(root)


def test_segmentation_pixel_counts(tmp_path: Path, cli) -> None:
    _segmentation_dir(tmp_path / "d")
    dist = class_distribution(tmp_path / "d", workers=1)
    assert dist.counts["train"] == {"bg": 3, "cat": 6, "dog": 1, "ignore": 1, "invalid": 1}
    assert dist.counts["val"] == {"bg": 0, "cat": 0, "dog": 6, "ignore": 0, "invalid": 0}
    assert sum(dist.counts["test"].values()) == 0
    assert dist.fractions("train")["cat"] == 0.5

    result = cli("prepare", "stats", tmp_path / "d", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    png = Path(summary["path"])
    assert png == tmp_path / "d" / "stats" / "class_distribution.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with (png.parent / "class_distribution.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["class", "train_pixels", "val_pixels", "test_pixels"]
    assert rows[2] == ["cat", "6", "0", "0"]


def test_classification_counts(tmp_path: Path, cli) -> None:
    root = tmp_path / "c"
    classes = [ClassInfo(0, "cat", (0, 0, 0)), ClassInfo(1, "dog", (1, 1, 1))]
    DatasetManifest(task="classification", classes=classes).save(root)
    for split, labels in {"train": ["cat", "cat", "dog"], "val": ["dog"], "test": []}.items():
        body = "".join(f"images/{lab}/{i}.jpg,{lab}\n" for i, lab in enumerate(labels))
        atomic_write_text(root / "splits" / f"{split}.csv", "path,label\n" + body)
    dist = class_distribution(root)
    assert dist.unit == "images"
    assert dist.counts == {
        "train": {"cat": 2, "dog": 1},
        "val": {"cat": 0, "dog": 1},
        "test": {"cat": 0, "dog": 0},
    }
    result = cli("prepare", "stats", root, "--out", tmp_path / "s")
    assert result.exit_code == 0
    assert result.stdout.strip().splitlines()[-1] == str(tmp_path / "s" / "class_distribution.png")
    atomic_write_text(root / "splits" / "val.csv", "path,label\nx.jpg,bird\n")
    with pytest.raises(CvtoolError, match=r"val.csv, line 2: label 'bird' is not a class"):
        class_distribution(root)


def test_stats_errors(tmp_path: Path, cli) -> None:
    result = cli("prepare", "stats", tmp_path / "missing")
    assert result.exit_code == 1 and "does not exist" in result.stderr
    _segmentation_dir(tmp_path / "d")
    (tmp_path / "d" / "masks" / "b.png").write_bytes(b"broken")
    result = cli("prepare", "stats", tmp_path / "d")
    assert result.exit_code == 1 and "b.png is not a readable image" in result.stderr
