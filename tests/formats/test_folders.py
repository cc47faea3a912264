"""`prepare folder`: stratified, deterministic splits; unreadable images reported and skipped."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from prepare_helpers import write_image

from cvtool.core.artifacts import DatasetManifest
from cvtool.core.errors import CvtoolError
from cvtool.formats.folders import prepare_folder

SIZES = {"cat": 10, "dog": 7, "owl": 3}


def _folder(root: Path) -> None:
    for cls, n in SIZES.items():
        for i in range(n):
            write_image(root / cls / f"{cls}{i}.jpg", 5, 5, seed=i)


def _rows(out: Path, split: str) -> list[dict[str, str]]:
    with (out / "splits" / f"{split}.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def test_stratified_splits_every_class_everywhere(tmp_path: Path, cli) -> None:
    _folder(tmp_path / "raw")
    out = tmp_path / "out"
    args = ["prepare", "folder", "--root", tmp_path / "raw", "--val", 0.2, "--test", 0.1]
    result = cli(*args, "--out", out, "--workers", 1)
    assert result.exit_code == 0, result.stderr
    manifest = DatasetManifest.load(out)
    assert manifest.task == "classification" and manifest.class_names == ["cat", "dog", "owl"]
    per_class = manifest.extra["images_per_class"]
    assert per_class == {
        "train": {"cat": 7, "dog": 5, "owl": 1},
        "val": {"cat": 2, "dog": 1, "owl": 1},
        "test": {"cat": 1, "dog": 1, "owl": 1},
    }
    rows = {s: _rows(out, s) for s in ("train", "val", "test")}
    assert (
        {s: len(r) for s, r in rows.items()}
        == manifest.splits
        == {"train": 13, "val": 4, "test": 3}
    )
    paths = [r["path"] for rs in rows.values() for r in rs]
    assert len(set(paths)) == 20 and all((out / p).is_file() for p in paths)
    assert all(r["path"].startswith(f"images/{r['label']}/") for rs in rows.values() for r in rs)

    again = cli(*args, "--out", tmp_path / "again", "--workers", 2)
    assert again.exit_code == 0
    assert _rows(tmp_path / "again", "val") == rows["val"]
    assert cli(*args, "--out", tmp_path / "other", "--seed", 5).exit_code == 0
    assert _rows(tmp_path / "other", "train") != rows["train"]


def test_corrupt_and_non_image_files(tmp_path: Path, cli) -> None:
    _folder(tmp_path / "raw")
    (tmp_path / "raw" / "dog" / "dog3.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (tmp_path / "raw" / "dog" / "notes.txt").write_text("not an image")
    (tmp_path / "raw" / "empty").mkdir()
    result = cli("prepare", "folder", "--root", tmp_path / "raw", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.stderr
    assert "skipped dog/dog3.jpg" in result.stderr and "empty" in result.stderr
    manifest = DatasetManifest.load(tmp_path / "o")
    assert list(manifest.extra["skipped_unreadable"]) == ["dog/dog3.jpg"]
    assert manifest.extra["non_image_files_ignored"] == 1
    assert manifest.extra["empty_class_folders"] == ["empty"]
    assert sum(manifest.splits.values()) == 19 and manifest.class_names == ["cat", "dog", "owl"]


def test_bad_folder_inputs(tmp_path: Path, cli) -> None:
    with pytest.raises(CvtoolError, match="image folder not found"):
        prepare_folder(tmp_path / "nope", tmp_path / "o")
    (tmp_path / "flat").mkdir()
    write_image(tmp_path / "flat" / "a.jpg", 3, 3)
    with pytest.raises(CvtoolError, match="has no class subfolders"):
        prepare_folder(tmp_path / "flat", tmp_path / "o")
    with pytest.raises(CvtoolError, match="sum to less than 1"):
        prepare_folder(tmp_path / "flat", tmp_path / "o", val=0.6, test=0.4)
    _folder(tmp_path / "raw")
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "keep.txt").write_text("x")
    result = cli("prepare", "folder", "--root", tmp_path / "raw", "--out", tmp_path / "o")
    assert result.exit_code == 1 and "already exists and is not empty" in result.stderr
    assert (tmp_path / "o" / "keep.txt").is_file()


@pytest.mark.realdata
def test_real_imagenette(shared_data: Path, tmp_path: Path) -> None:
    root = shared_data / "imagenette"
    result = prepare_folder(root, tmp_path / "out", val=0.2, test=0.1, workers=2)
    counts = {d.name: len(list(d.iterdir())) for d in root.iterdir() if d.is_dir()}
    per_class = result.manifest.extra["images_per_class"]
    assert result.manifest.class_names == sorted(counts)
    assert result.manifest.extra["skipped_unreadable"] == {}
    for cls, n in counts.items():
        got = [per_class[s][cls] for s in ("train", "val", "test")]
        assert sum(got) == n and min(got) >= 1
        assert got[1] == round(0.2 * n) or abs(got[1] - 0.2 * n) <= 1
    assert sum(result.manifest.splits.values()) == sum(counts.values()) == 525
