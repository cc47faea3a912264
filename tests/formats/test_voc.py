"""`prepare voc`: devkit palette masks with official splits, labelme names, RGB pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from prepare_helpers import read_mask, write_image

from cvtool.core.artifacts import DatasetManifest
from cvtool.core.errors import CvtoolError
from cvtool.core.layout import read_split_list
from cvtool.core.palette import voc_colormap
from cvtool.formats.voc import prepare_voc


def _palette_png(path: Path, index: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.fromarray(index, mode="P")
    im.putpalette(voc_colormap(256).ravel().tolist())
    im.save(path)


def _devkit(root: Path, n: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    masks = {}
    for i in range(n):
        stem = f"2007_{i:06d}"
        write_image(root / "JPEGImages" / f"{stem}.jpg", 6, 5, seed=i)
        index = rng.integers(0, 21, (6, 5)).astype(np.uint8)
        index[0, :] = 255  # object boundary
        _palette_png(root / "SegmentationClass" / f"{stem}.png", index)
        masks[stem] = index
    return masks


def test_devkit_official_splits_and_palette_indices(tmp_path: Path, cli) -> None:
    root = tmp_path / "VOC2012"
    masks = _devkit(root)
    masks["2007_000003"][1, 1] = 40  # not a VOC class
    _palette_png(root / "SegmentationClass" / "2007_000003.png", masks["2007_000003"])
    lists = root / "ImageSets" / "Segmentation"
    lists.mkdir(parents=True)
    (lists / "train.txt").write_text("2007_000000\n2007_000002\n")
    (lists / "val.txt").write_text("2007_000003\n")
    out = tmp_path / "out"
    result = cli("prepare", "voc", "--root", root, "--out", out, "--workers", 1)
    assert result.exit_code == 0, result.stderr
    manifest = DatasetManifest.load(out)
    assert manifest.num_classes == 21 and manifest.class_names[15] == "person"
    assert manifest.splits == {"train": 2, "val": 1, "test": 0}
    assert manifest.extra["splits_from"] == "official"
    assert read_split_list(out, "train") == ["2007_000000.jpg", "2007_000002.jpg"]
    assert not (out / "masks" / "2007_000001.png").exists()  # not in any official list
    assert manifest.extra["unknown_pixels"] == 1
    assert manifest.extra["most_common_unknown"] == {"index 40": 1}
    for stem in ("2007_000000", "2007_000002", "2007_000003"):
        want = masks[stem].copy()
        want[want == 40] = 255
        np.testing.assert_array_equal(read_mask(out / "masks" / f"{stem}.png"), want)

    result = cli("prepare", "voc", "--root", root, "--out", tmp_path / "r", "--split", "0,1,0")
    assert result.exit_code == 0
    assert DatasetManifest.load(tmp_path / "r").splits == {"train": 0, "val": 3, "test": 0}


def test_devkit_without_lists_uses_class_names_and_random_split(tmp_path: Path) -> None:
    root = tmp_path / "labelme"
    masks = _devkit(root, n=5)
    names = ["_background_", "cat", "dog"]
    (root / "class_names.txt").write_text("\n".join(names) + "\n")
    result = prepare_voc(root, tmp_path / "out", workers=1)
    assert result.manifest.class_names == ["background", "cat", "dog"]
    assert result.manifest.splits == {"train": 3, "val": 1, "test": 1}
    want = masks["2007_000004"].copy()
    want[(want > 2) & (want != 255)] = 255
    np.testing.assert_array_equal(read_mask(tmp_path / "out" / "masks" / "2007_000004.png"), want)
    assert result.summary["unknown_pixels"] == sum(
        int(((m > 2) & (m != 255)).sum()) for m in masks.values()
    )


def test_rgb_pairs_layout(tmp_path: Path) -> None:
    root = tmp_path / "pairs"
    cmap = voc_colormap(256)
    rng = np.random.default_rng(1)
    expected = {}
    for n in (1, 23):
        write_image(root / f"{n}_image.png", 4, 6, seed=n)
        index = rng.integers(0, 21, (4, 6)).astype(np.uint8)
        index[:, 0] = 255
        rgb = cmap[index]
        rgb[3, 5] = (7, 7, 7)  # no VOC colour
        Image.fromarray(rgb).save(root / f"{n}_target.png")
        index[3, 5] = 255
        expected[f"{n}_image.png"] = index
    result = prepare_voc(root, tmp_path / "out", workers=1)
    assert result.summary["layout"] == "pairs" and result.summary["unknown_pixels"] == 2
    for name, want in expected.items():
        np.testing.assert_array_equal(read_mask(tmp_path / "out" / "masks" / name), want)


def test_bad_voc_inputs(tmp_path: Path) -> None:
    root = tmp_path / "VOC2012"
    _devkit(root, n=2)
    (root / "JPEGImages" / "2007_000001.jpg").unlink()
    with pytest.raises(CvtoolError, match="2007_000001 has no image"):
        prepare_voc(root, tmp_path / "o")
    with pytest.raises(CvtoolError, match="is not a VOC folder"):
        prepare_voc(tmp_path, tmp_path / "o")
    (tmp_path / "x_target.png").write_bytes(b"")
    with pytest.raises(CvtoolError, match="has no image x_image"):
        prepare_voc(tmp_path, tmp_path / "o")
    (root / "class_names.txt").write_text("a\na\n")
    with pytest.raises(CvtoolError, match=r"class_names\.txt: expected 1-254 distinct"):
        prepare_voc(root, tmp_path / "o")


@pytest.mark.realdata
def test_real_labelme_voc_matches_its_npy_masks(shared_data: Path, tmp_path: Path) -> None:
    root = shared_data / "voc" / "labelme_voc"
    result = prepare_voc(root, tmp_path / "out", workers=1)
    assert result.manifest.num_classes == 21 and result.summary["unknown_pixels"] == 0
    assert result.manifest.class_names[0] == "background"
    assert sum(result.manifest.splits.values()) == 3
    for npy in sorted((root / "SegmentationClassNpy").glob("*.npy")):
        want = np.load(npy)
        want[want == -1] = 255
        np.testing.assert_array_equal(
            read_mask(tmp_path / "out" / "masks" / f"{npy.stem}.png"), want
        )


@pytest.mark.realdata
def test_real_rgb_voc_maps_back_to_the_same_colours(shared_data: Path, tmp_path: Path) -> None:
    root = shared_data / "voc" / "rgb_samples"
    result = prepare_voc(root, tmp_path / "out", workers=1)
    assert result.summary["unknown_pixels"] == 0 and sum(result.manifest.splits.values()) == 3
    cmap = voc_colormap(256)
    for target in sorted(root.glob("*_target.png")):
        stem = target.name.replace("_target.png", "_image")
        mask = read_mask(tmp_path / "out" / "masks" / f"{stem}.png")
        assert set(np.unique(mask)) - {255} and (mask[mask != 255] < 21).all()
        np.testing.assert_array_equal(cmap[mask], np.asarray(Image.open(target)))
