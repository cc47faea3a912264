"""`prepare coco`: exact masks for overlaps and crowds, a pycocotools oracle, and bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from prepare_helpers import CocoBuilder, box, read_mask, rle

from cvtool.core.artifacts import DatasetManifest
from cvtool.core.errors import CvtoolError
from cvtool.core.layout import read_split_list
from cvtool.formats.coco import prepare_coco


def _uncompressed(mask: np.ndarray) -> dict:
    """COCO uncompressed RLE written out by hand: column-major runs, zeros first."""
    flat = [int(v) for v in mask.T.ravel()]
    counts, current, run = [], 0, 0
    for v in flat:
        if v != current:
            counts.append(run)
            current, run = v, 0
        run += 1
    counts.append(run)
    return {"size": list(mask.shape), "counts": counts}


def _overlap(b: CocoBuilder) -> tuple[np.ndarray, np.ndarray]:
    person, car = box(8, 10, 0, 5, 0, 6), box(8, 10, 3, 8, 4, 10)
    image = b.image("a.png")
    b.ann(image, "person", rle(person))
    b.ann(image, "car", rle(car))
    return person, car


def test_overlap_resolved_by_class_order_then_priority(coco_builder: CocoBuilder, tmp_path, cli):
    person, car = _overlap(coco_builder)
    ann = coco_builder.write()
    images = coco_builder.root / "images"
    args = ["prepare", "coco", "--annotations", ann, "--images", images, "--workers", 1]
    result = cli(*args, "--classes", "person,car", "--out", tmp_path / "o1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(tmp_path / "o1")
    expected = np.zeros((8, 10), np.uint8)
    expected[car] = 2
    expected[person] = 1  # person listed first: wins the overlap
    np.testing.assert_array_equal(read_mask(tmp_path / "o1" / "masks" / "a.png"), expected)

    result = cli(*args, "--classes", "person,car", "--priority", "car", "--out", tmp_path / "o2")
    assert result.exit_code == 0, result.stderr
    expected[car] = 2
    np.testing.assert_array_equal(read_mask(tmp_path / "o2" / "masks" / "a.png"), expected)
    manifest = DatasetManifest.load(tmp_path / "o2")
    assert manifest.extra["priority"] == ["car", "person"]
    assert manifest.class_names == ["background", "person", "car"]
    assert manifest.source["category_ids"] == {"person": 1, "car": 3}


@pytest.mark.parametrize("mode", ["ignore", "class", "skip"])
def test_crowd_modes(coco_builder: CocoBuilder, tmp_path: Path, mode: str) -> None:
    crowd, person, car = box(8, 10, 0, 8, 0, 5), box(8, 10, 2, 4, 1, 3), box(8, 10, 0, 3, 3, 8)
    image = coco_builder.image("c.jpg")
    coco_builder.ann(image, "person", _uncompressed(crowd), iscrowd=1)
    coco_builder.ann(image, "person", rle(person))
    coco_builder.ann(image, "car", rle(car))
    out = tmp_path / mode
    result = prepare_coco(
        coco_builder.write(),
        coco_builder.root / "images",
        ["person", "car"],
        out,
        crowd=mode,
        workers=1,
    )
    expected = np.zeros((8, 10), np.uint8)
    if mode == "ignore":
        expected[crowd] = 255
    expected[car] = 2
    if mode == "class":
        expected[crowd] = 1  # a person region with person's priority
    expected[person] = 1
    np.testing.assert_array_equal(read_mask(out / "masks" / "c.png"), expected)
    assert result.summary["crowd_annotations"] == 1 and result.manifest.extra["crowd"] == mode


def test_masks_match_pycocotools_oracle(coco_builder: CocoBuilder, tmp_path: Path) -> None:
    """Random polygons, multi-part polygons and RLE against COCO.annToMask painted by priority."""
    from pycocotools.coco import COCO

    rng = np.random.default_rng(3)
    names = ["dog", "person", "car"]
    for i in range(6):
        image = coco_builder.image(f"img{i}.png", h=40, w=50)
        for _ in range(4):
            cls = names[rng.integers(3)]
            if rng.random() < 0.3:
                y, x = rng.integers(0, 30), rng.integers(0, 40)
                coco_builder.ann(image, cls, rle(box(40, 50, y, y + 10, x, x + 10)))
            else:
                parts = [rng.uniform(0, 50, 2 * rng.integers(3, 8)).round(1).tolist()]
                if rng.random() < 0.3:
                    parts.append(rng.uniform(0, 40, 8).round(1).tolist())
                coco_builder.ann(image, cls, parts)
    ann_path = coco_builder.write()
    prepare_coco(ann_path, coco_builder.root / "images", names, tmp_path / "o", workers=2)
    coco = COCO(str(ann_path))
    ids = {coco.getCatIds(catNms=[n])[0]: i + 1 for i, n in enumerate(names)}
    for image in coco.dataset["images"]:
        expected = np.zeros((40, 50), np.uint8)
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
        for ann in sorted(anns, key=lambda a: -ids[a["category_id"]]):  # lowest priority first
            expected[coco.annToMask(ann) == 1] = ids[ann["category_id"]]
        got = read_mask(tmp_path / "o" / "masks" / image["file_name"])
        np.testing.assert_array_equal(got, expected)


def test_outputs_layout_links_and_json(coco_builder: CocoBuilder, tmp_path: Path, cli) -> None:
    _overlap(coco_builder)
    empty = coco_builder.image("empty.png")
    other = coco_builder.image("only_cat.png")
    coco_builder.ann(other, "cat", rle(box(8, 10, 0, 2, 0, 2)))
    assert empty
    ann = coco_builder.write()
    images = coco_builder.root / "images"
    out = tmp_path / "out"
    result = cli(
        "prepare", "coco", "--annotations", ann, "--images", images, "--classes", "car,person",
        "--out", out, "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["path"] == str(out) and summary["images"] == 1
    assert summary["images_without_classes_skipped"] == 2
    assert sorted(os.listdir(out / "images")) == ["a.png"]
    assert os.path.samestat(os.stat(out / "images" / "a.png"), os.stat(images / "a.png"))
    assert sum(len(read_split_list(out, s)) for s in ("train", "val", "test")) == 1
    from PIL import Image

    with Image.open(out / "masks_colored" / "a.png") as im:
        assert im.mode == "RGB" and im.size == (10, 8)

    result = cli(
        "prepare", "coco", "--annotations", ann, "--images", images, "--classes", "car,person",
        "--out", tmp_path / "all", "--include-empty",
    )  # fmt: skip
    assert result.exit_code == 0
    assert sorted(os.listdir(tmp_path / "all" / "masks")) == ["a.png", "empty.png", "only_cat.png"]
    assert not read_mask(tmp_path / "all" / "masks" / "only_cat.png").any()


def test_degenerate_polygons_are_dropped_not_read_as_boxes(coco_builder, tmp_path) -> None:
    image = coco_builder.image("d.png")
    coco_builder.ann(image, "dog", [[1, 1, 6, 6]])  # pycocotools would rasterise this as a box
    coco_builder.ann(image, "dog", [[0, 0, 2], [1, 1, 9, 1, 9, 7, 1, 7]][1:])
    out = tmp_path / "o"
    result = prepare_coco(coco_builder.write(), coco_builder.root / "images", ["dog"], out)
    mask = read_mask(out / "masks" / "d.png")
    assert result.summary["degenerate_polygons_dropped"] == 1
    assert mask[0, 0] == 0 and mask[3:6, 2:8].all()


def test_odd_polygon_is_an_error(coco_builder: CocoBuilder, tmp_path: Path) -> None:
    coco_builder.ann(coco_builder.image("e.png"), "dog", [[1, 1, 6, 6, 3]])
    with pytest.raises(CvtoolError, match=r"instances.json: annotation 1 \(image 1\): polygons"):
        prepare_coco(coco_builder.write(), coco_builder.root / "images", ["dog"], tmp_path / "o")


def _run(cli, b: CocoBuilder, out: Path, *extra: object):
    return cli(
        "prepare", "coco", "--annotations", b.root / "instances.json", "--images",
        b.root / "images", "--classes", "person,car", "--out", out, "--workers", 1, *extra,
    )  # fmt: skip


def test_class_not_found_lists_available(coco_builder: CocoBuilder, tmp_path: Path, cli) -> None:
    _overlap(coco_builder)
    coco_builder.write()
    result = cli(
        "prepare", "coco", "--annotations", coco_builder.root / "instances.json", "--images",
        coco_builder.root / "images", "--classes", "person,zebra", "--out", tmp_path / "o",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "['zebra']" in result.stderr and "available: car, cat, dog, person" in result.stderr
    assert not (tmp_path / "o").exists()


def test_bad_json_names_the_file(coco_builder: CocoBuilder, tmp_path: Path, cli) -> None:
    coco_builder.root.mkdir(parents=True)
    (coco_builder.root / "images").mkdir()
    (coco_builder.root / "instances.json").write_text('{"images": [}')
    result = _run(cli, coco_builder, tmp_path / "o")
    assert result.exit_code == 1 and "instances.json is not valid JSON" in result.stderr
    (coco_builder.root / "instances.json").write_text('{"images": []}')
    result = _run(cli, coco_builder, tmp_path / "o")
    assert result.exit_code == 1 and "no 'annotations' list" in result.stderr
    (coco_builder.root / "instances.json").write_text(
        '{"images": [{"id": 1}], "annotations": [], "categories": []}'
    )
    result = _run(cli, coco_builder, tmp_path / "o")
    assert result.exit_code == 1 and "missing or bad field 'file_name'" in result.stderr


def test_missing_image_is_an_error(coco_builder: CocoBuilder, tmp_path: Path, cli) -> None:
    _overlap(coco_builder)
    coco_builder.write()
    (coco_builder.root / "images" / "a.png").unlink()
    result = _run(cli, coco_builder, tmp_path / "o")
    assert result.exit_code == 1
    assert "1 of 1 images are missing" in result.stderr and "a.png" in result.stderr


def test_image_size_mismatch_and_unknown_image_id(coco_builder, tmp_path, cli) -> None:
    _overlap(coco_builder)
    coco_builder.images[0]["width"] = 12
    coco_builder.write()
    result = _run(cli, coco_builder, tmp_path / "o")
    assert result.exit_code == 1 and "RLE size [8, 10] does not match" in result.stderr
    coco_builder.images[0]["width"] = 10
    coco_builder.annotations[0]["image_id"] = 99
    coco_builder.write()
    result = _run(cli, coco_builder, tmp_path / "o")
    assert result.exit_code == 1 and "refers to image id 99" in result.stderr


def test_corrupt_image_fails_and_leaves_previous_output(coco_builder, tmp_path, cli) -> None:
    _overlap(coco_builder)
    for i in range(6):
        other = coco_builder.image(f"more{i}.png")
        coco_builder.ann(other, "car", rle(box(8, 10, 1, 3, 1, 3)))
    coco_builder.write()
    out = tmp_path / "o"
    assert _run(cli, coco_builder, out).exit_code == 0
    before = sorted(os.listdir(out / "masks"))
    result = _run(cli, coco_builder, out)
    assert result.exit_code == 1 and "already exists and is not empty" in result.stderr
    broken = coco_builder.root / "images" / "more3.png"
    broken.unlink()  # a new file: the prepared copy is a hard link to the old one
    broken.write_bytes(b"not a png")
    result = _run(cli, coco_builder, out, "--overwrite")
    assert result.exit_code == 1 and "more3.png is not a readable image" in result.stderr
    assert sorted(os.listdir(out / "masks")) == before
    assert sorted(os.listdir(tmp_path)) == ["o", "raw"]  # no half-built staging directory left


def test_split_is_deterministic_by_seed(coco_builder: CocoBuilder, tmp_path: Path, cli) -> None:
    for i in range(20):
        coco_builder.ann(coco_builder.image(f"s{i:02d}.png"), "car", rle(box(8, 10, 0, 2, 0, 2)))
    coco_builder.write()

    def splits(out: Path, *extra: object) -> dict[str, list[str]]:
        assert _run(cli, coco_builder, out, *extra).exit_code == 0
        return {s: read_split_list(out, s) for s in ("train", "val", "test")}

    first = splits(tmp_path / "a", "--seed", 1)
    assert first == splits(tmp_path / "b", "--seed", 1)
    assert first != splits(tmp_path / "c", "--seed", 2)
    assert [len(v) for v in first.values()] == [14, 3, 3]
    every = sorted(n for names in first.values() for n in names)
    assert every == [f"s{i:02d}.png" for i in range(20)]
    assert [len(v) for v in splits(tmp_path / "d", "--split", "0.5,0.5,0").values()] == [10, 10, 0]
    result = _run(cli, coco_builder, tmp_path / "e", "--split", "0.5,0.6,0")
    assert result.exit_code == 2


def test_bad_options(coco_builder: CocoBuilder, tmp_path: Path, cli) -> None:
    _overlap(coco_builder)
    coco_builder.write()
    result = _run(cli, coco_builder, tmp_path / "o", "--priority", "dog")
    assert result.exit_code == 2 and "--priority: class priority names ['dog']" in result.stderr
    result = _run(cli, coco_builder, tmp_path / "o", "--crowd", "maybe")
    assert result.exit_code == 2 and "--crowd: unknown crowd mode 'maybe'" in result.stderr


@pytest.mark.realdata
def test_real_coco_four_classes(shared_data: Path, tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    ann = shared_data / "coco" / "annotations" / "instances_val2017.json"
    names = ["person", "car", "bus", "dog"]
    result = prepare_coco(ann, shared_data / "coco" / "val2017", names, tmp_path / "o", workers=2)
    coco = COCO(str(ann))
    ids = {coco.getCatIds(catNms=[n])[0]: i + 1 for i, n in enumerate(names)}
    images = [
        im for im in coco.dataset["images"] if coco.getAnnIds(imgIds=[im["id"]], catIds=list(ids))
    ]
    assert result.summary["images"] == len(images) == 42
    for image in images:
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]], catIds=list(ids)))
        expected = np.zeros((image["height"], image["width"]), np.uint8)
        for a in (a for a in anns if a["iscrowd"]):
            expected[coco.annToMask(a) == 1] = 255
        for a in sorted(
            (a for a in anns if not a["iscrowd"]), key=lambda a: -ids[a["category_id"]]
        ):
            expected[coco.annToMask(a) == 1] = ids[a["category_id"]]
        stem = Path(image["file_name"]).stem
        np.testing.assert_array_equal(read_mask(tmp_path / "o" / "masks" / f"{stem}.png"), expected)
    assert result.summary["crowd_annotations"] == 1
