"""`prepare camvid`: vectorised colour decoding against a per-pixel oracle, both layouts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from prepare_helpers import read_mask, write_image

from cvtool.core.artifacts import DatasetManifest
from cvtool.core.errors import CvtoolError
from cvtool.core.layout import read_split_list
from cvtool.formats.camvid import build_decoder, prepare_camvid, read_class_dict

CLASSES = [("Sky", (128, 128, 128)), ("Road", (128, 64, 128)), ("Void", (0, 0, 0))]
CLASS_DICT = "name,r,g,b\nSky, 128, 128,128\nRoad,128 ,64,128\nVoid,0,0,0\n"
UNKNOWN = (1, 2, 3)


def _label(seed: int, h: int = 6, w: int = 7, unknown: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    palette = np.array([c for _, c in CLASSES], dtype=np.uint8)
    rgb = palette[rng.integers(0, len(CLASSES), (h, w))]
    rgb.reshape(-1, 3)[:unknown] = UNKNOWN
    return rgb


def _kaggle(root: Path, unknown_in: str | None = None) -> dict[str, np.ndarray]:
    """Two train, one val, one test image; returns the label colours by image name."""
    labels = {}
    for i, (split, stem) in enumerate(
        [("train", "a"), ("train", "b"), ("val", "c"), ("test", "d")]
    ):
        write_image(root / split / f"{stem}.png", 6, 7, seed=i)
        rgb = _label(i, unknown=3 if stem == unknown_in else 0)
        (root / f"{split}_labels").mkdir(parents=True, exist_ok=True)
        Image.fromarray(rgb).save(root / f"{split}_labels" / f"{stem}_L.png")
        labels[f"{stem}.png"] = rgb
    (root / "class_dict.csv").write_text(CLASS_DICT)
    return labels


def _oracle(rgb: np.ndarray, void_as_class: bool) -> np.ndarray:
    """A per-pixel dictionary lookup."""
    lookup = {c: i for i, (_, c) in enumerate(CLASSES)}
    if not void_as_class:
        lookup[(0, 0, 0)] = 255
    out = np.empty(rgb.shape[:2], np.uint8)
    for y in range(rgb.shape[0]):
        for x in range(rgb.shape[1]):
            out[y, x] = lookup.get(tuple(int(v) for v in rgb[y, x]), 255)
    return out


def test_read_class_dict_tolerates_spaces_and_rejects_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "class_dict.csv"
    path.write_text(CLASS_DICT)
    assert read_class_dict(path) == CLASSES
    for text, message in [
        ("label,r,g,b\nSky,1,2,3\n", "expected a header"),
        ("name,r,g,b\nSky,1,2\n", "line 2: expected name,r,g,b"),
        ("name,r,g,b\nSky,1,2,300\n", "line 2: bad class"),
        ("name,r,g,b\nSky,1,2,3\nRoad,1,2,3\n", "share a colour"),
    ]:
        path.write_text(text)
        with pytest.raises(CvtoolError, match=message) as info:
            read_class_dict(path)
        assert str(path) in info.value.message
    with pytest.raises(CvtoolError, match="class dictionary not found"):
        read_class_dict(tmp_path / "nope.csv")


@pytest.mark.parametrize("void", ["ignore", "class"])
def test_decoder_matches_per_pixel_oracle(void: str) -> None:
    classes, decoder, void_color = build_decoder(CLASSES, void)
    rgb = _label(7, h=50, w=60, unknown=11)
    decoded = decoder.decode_rgb(rgb)
    np.testing.assert_array_equal(decoded.mask, _oracle(rgb, void == "class"))
    assert decoded.unknown_pixels == 11 and decoded.unknown_values == {"1,2,3": 11}
    assert [c.name for c in classes] == (
        ["Sky", "Road", "Void"] if void == "class" else ["Sky", "Road"]
    )
    assert void_color == (None if void == "class" else (0, 0, 0))


def test_kaggle_layout_round_trips_colours_and_reports_unknown(tmp_path: Path, cli) -> None:
    labels = _kaggle(tmp_path / "CamVid", unknown_in="b")
    out = tmp_path / "out"
    result = cli("prepare", "camvid", "--root", tmp_path / "CamVid", "--out", out, "--workers", 2)
    assert result.exit_code == 0, result.stderr
    assert "3 pixels in 1 label images had colours of no class" in result.stderr
    manifest = DatasetManifest.load(out)
    assert manifest.class_names == ["Sky", "Road"] and manifest.splits == {
        "train": 2,
        "val": 1,
        "test": 1,
    }
    assert manifest.extra["unknown_pixels"] == 3 and manifest.extra["images_with_unknown"] == 1
    assert manifest.extra["most_common_unknown"] == {"1,2,3": 3}
    assert read_split_list(out, "train") == ["a.png", "b.png"]
    for name, rgb in labels.items():
        mask = read_mask(out / "masks" / name)
        np.testing.assert_array_equal(mask, _oracle(rgb, void_as_class=False))
        if name != "b.png":  # the preview reproduces the original label colours
            colored = np.asarray(Image.open(out / "masks_colored" / name))
            np.testing.assert_array_equal(colored, rgb)
    pixels = manifest.extra["pixel_counts"]["train"]
    both = np.concatenate([labels["a.png"], labels["b.png"]]).reshape(-1, 3)
    assert pixels["Sky"] == int((both == (128, 128, 128)).all(1).sum())
    assert pixels["ignore"] == int((both == (0, 0, 0)).all(1).sum()) + 3


def test_void_as_class(tmp_path: Path) -> None:
    labels = _kaggle(tmp_path / "CamVid")
    result = prepare_camvid(tmp_path / "CamVid", tmp_path / "out", void="class", workers=1)
    assert result.manifest.class_names == ["Sky", "Road", "Void"]
    mask = read_mask(tmp_path / "out" / "masks" / "c.png")
    np.testing.assert_array_equal(mask, _oracle(labels["c.png"], void_as_class=True))


def test_segnet_layout_with_index_labels_and_lists(tmp_path: Path) -> None:
    root = tmp_path / "CamVid"
    rng = np.random.default_rng(0)
    expected = {}
    for split, stem in [("train", "a"), ("val", "b"), ("test", "c")]:
        write_image(root / split / f"{stem}.png", 5, 4)
        index = rng.integers(0, 12, (5, 4)).astype(np.uint8)
        index[0, 0] = 200  # not a class: unknown
        (root / f"{split}annot").mkdir(parents=True)
        Image.fromarray(index, mode="L").save(root / f"{split}annot" / f"{stem}.png")
        want = index.copy()
        want[(index == 11) | (index == 200)] = 255
        expected[f"{stem}.png"] = want
        listing = f"/SegNet/CamVid/{split}/{stem}.png /SegNet/CamVid/{split}annot/{stem}.png\n"
        (root / f"{split}.txt").write_text(listing)
    result = prepare_camvid(root, tmp_path / "out", workers=1)
    assert result.summary["layout"] == "segnet" and len(result.manifest.classes) == 11
    assert result.summary["unknown_pixels"] == 3
    assert result.summary["most_common_unknown"] == {"index 200": 3}
    for name, want in expected.items():
        np.testing.assert_array_equal(read_mask(tmp_path / "out" / "masks" / name), want)
    (root / "val.txt").write_text("/x/val/zzz.png /x/valannot/zzz.png\n")
    with pytest.raises(CvtoolError, match=r"val.txt, line 1: file not found"):
        prepare_camvid(root, tmp_path / "out2")


def test_bad_camvid_inputs(tmp_path: Path, cli) -> None:
    root = tmp_path / "CamVid"
    _kaggle(root)
    (root / "test_labels" / "d_L.png").unlink()
    result = cli("prepare", "camvid", "--root", root, "--out", tmp_path / "o")
    assert result.exit_code == 1 and "has no label file" in result.stderr
    assert "d_L.png" in result.stderr
    Image.fromarray(_label(0, h=3, w=3)).save(root / "test_labels" / "d_L.png")
    result = cli("prepare", "camvid", "--root", root, "--out", tmp_path / "o")
    assert result.exit_code == 1 and "d_L.png is 3x3 but its image" in result.stderr
    result = cli("prepare", "camvid", "--root", root / "train", "--out", tmp_path / "o")
    assert result.exit_code == 1 and "is not a CamVid folder" in result.stderr
    (root / "class_dict.csv").unlink()
    result = cli("prepare", "camvid", "--root", root, "--out", tmp_path / "o")
    assert result.exit_code == 1 and "no class_dict.csv" in result.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("class_dict", ["class_dict.csv", "class_dict_32.csv"])
def test_real_camvid_masks_map_back_to_the_same_colours(
    shared_data: Path, tmp_path: Path, class_dict: str
) -> None:
    root = shared_data / "camvid"
    out = tmp_path / "camvid"
    result = prepare_camvid(root, out, class_dict=root / class_dict, workers=2)
    manifest = json.loads((out / "dataset.json").read_text())
    lut = np.zeros((256, 3), np.uint8)
    for c in manifest["classes"]:
        lut[c["id"]] = c["color"]
    lut[255] = manifest["extra"]["void_color"]
    assert result.summary["unknown_pixels"] == 0
    assert result.manifest.splits == {"train": 100, "val": 25, "test": 25}
    assert len(result.manifest.classes) == (11 if class_dict == "class_dict.csv" else 31)
    for split in ("train", "val", "test"):
        for name in read_split_list(out, split):
            original = np.asarray(Image.open(root / f"{split}_labels" / f"{name[:-4]}_L.png"))
            np.testing.assert_array_equal(lut[read_mask(out / "masks" / name)], original)
