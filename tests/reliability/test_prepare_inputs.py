"""`prepare`: every malformed input is refused with its file named and nothing written, or
(image folders) reported and skipped; nothing it accepts fails later."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from corpus import (
    Case,
    assert_refused,
    camvid_raw,
    coco_raw,
    disk_state,
    image_folder,
    truncate,
    voc_pairs,
)

from tests.formats.prepare_helpers import box, rle

COCO_OPTIONS = ["--classes", "person,car", "--workers", 1]


def _coco(tmp_path: Path, *extra: object) -> list[object]:
    raw = tmp_path / "raw"
    args = ["prepare", "coco", "--annotations", raw / "instances.json", "--images", raw / "images"]
    return [*args, *COCO_OPTIONS, *extra]


def _with_segmentation(tmp_path: Path, segmentation: object) -> Path:
    builder = coco_raw(tmp_path / "raw")
    builder.ann(builder.image("bad.png"), "person", segmentation)
    return builder.write()


def _cut_compressed() -> dict:
    good = rle(box(8, 10, 2, 6, 2, 7))
    return {"size": [8, 10], "counts": good["counts"][:-1]}


SEGMENTATIONS = {
    "cut uncompressed RLE": ({"size": [8, 10], "counts": [10, 20, 5]}, "cover 35 pixels, not"),
    "cut compressed RLE": (_cut_compressed(), "malformed RLE counts"),
    "garbage compressed RLE": ({"size": [8, 10], "counts": "!!garbage~~"}, "not in the RLE"),
    "RLE continuing past its end": ({"size": [8, 10], "counts": "0P"}, "ends inside a number"),
    "negative RLE run": ({"size": [8, 10], "counts": [-5, 85]}, "non-negative integers"),
    "RLE size of strings": ({"size": ["8", "10"], "counts": [80]}, "is not [height, width]"),
    "non-numeric polygon": ([[1, 1, "x", 6, 3, 3]], "not a number"),
    "infinite polygon": ([[1, 1, math.inf, 6, 3, 3]], "not finite"),
}


@pytest.mark.parametrize("name", list(SEGMENTATIONS))
def test_malformed_segmentation_is_refused(name: str, tmp_path: Path, cli) -> None:
    segmentation, reason = SEGMENTATIONS[name]
    _with_segmentation(tmp_path, segmentation)
    names = ["instances.json", "annotation 6 (image 5)", reason]
    assert_refused(cli, Case(name, _coco(tmp_path, "--out", tmp_path / "o"), 1, names), tmp_path)


def test_malformed_rle_is_refused_over_an_existing_output(tmp_path: Path, cli) -> None:
    """With `--overwrite`, the previous dataset stays as it was."""
    coco_raw(tmp_path / "raw").write()
    assert cli(*_coco(tmp_path, "--out", tmp_path / "o")).exit_code == 0
    _with_segmentation(tmp_path, {"size": [8, 10], "counts": "!!garbage~~"})
    args = _coco(tmp_path, "--out", tmp_path / "o", "--overwrite")
    assert_refused(cli, Case("rle", args, 1, ["instances.json", "annotation 6"]), tmp_path)


def test_duplicate_category_name_is_refused(tmp_path: Path, cli) -> None:
    path = coco_raw(tmp_path / "raw").write()
    data = json.loads(path.read_text())
    data["categories"].append({"id": 90, "name": "car"})
    path.write_text(json.dumps(data))
    names = [str(path), "categories 3 and 90 are both named 'car'"]
    case = Case("duplicate category", _coco(tmp_path, "--out", tmp_path / "o"), 1, names)
    assert_refused(cli, case, tmp_path)
    # a duplicate name the command does not ask for is no problem
    result = cli(*_coco(tmp_path, "--out", tmp_path / "o"), "--classes", "person")
    assert result.exit_code == 0, result.stderr


def test_truncated_images_are_refused_at_prepare(tmp_path: Path, cli) -> None:
    builder = coco_raw(tmp_path / "coco" / "raw")
    builder.write()
    truncate(builder.root / "images" / "m1.png")
    coco = _coco(tmp_path / "coco", "--out", tmp_path / "o")
    voc = voc_pairs(tmp_path / "voc")
    truncate(voc / "1_image.png")
    camvid = camvid_raw(tmp_path / "camvid")
    truncate(camvid / "val" / "s1.png")
    cases = [
        Case("coco", coco, 1, ["m1.png", "corrupt or truncated"]),
        Case("voc", ["prepare", "voc", "--root", voc, "--out", tmp_path / "o"], 1, ["1_image"]),
        Case(
            "camvid",
            ["prepare", "camvid", "--root", camvid, "--out", tmp_path / "o"],
            1,
            ["s1.png", "corrupt or truncated"],
        ),
    ]
    for case in cases:
        assert_refused(cli, case, tmp_path)


def test_truncated_image_in_a_folder_is_reported_and_skipped(tmp_path: Path, cli) -> None:
    root = image_folder(tmp_path / "raw")
    truncate(root / "a" / "a2.png")
    result = cli("prepare", "folder", "--root", root, "--out", tmp_path / "o", "--workers", 1)
    assert result.exit_code == 0, result.stderr
    assert "a/a2.png" in result.stderr and "truncated" in result.stderr
    listed = "".join(p.read_text() for p in (tmp_path / "o" / "splits").glob("*.csv"))
    assert "a2.png" not in listed and "a1.png" in listed


def test_malformed_files_of_each_format(tmp_path: Path, cli) -> None:
    builder = coco_raw(tmp_path / "raw")
    ann = builder.write()
    camvid = camvid_raw(tmp_path / "camvid")
    (camvid / "class_dict.csv").write_text("name,r,g,b\nSky,128,128\n")
    out = tmp_path / "o"
    cases = [
        Case("not JSON", ["not json {"], 1, ["instances.json", "not valid JSON"]),
        Case("a list", [[1, 2]], 1, ["instances.json", "expected a JSON object"]),
        Case("no images", [{"annotations": [], "categories": []}], 1, ["no 'images' list"]),
    ]
    for case in cases:
        content = case.args[0]
        ann.write_text(content if isinstance(content, str) else json.dumps(content))
        case.args = _coco(tmp_path, "--out", out)
        assert_refused(cli, case, tmp_path)
    case = Case(
        "class dict",
        ["prepare", "camvid", "--root", camvid, "--out", out],
        1,
        ["class_dict.csv, line 2"],
    )
    assert_refused(cli, case, tmp_path)


def test_bad_option_values_are_usage_errors(tmp_path: Path, cli) -> None:
    coco_raw(tmp_path / "raw").write()
    camvid = camvid_raw(tmp_path / "camvid")
    voc = voc_pairs(tmp_path / "voc")
    folder = image_folder(tmp_path / "folder")
    out = tmp_path / "o"
    cases = [
        Case("crowd", _coco(tmp_path, "--crowd", "drop", "--out", out), 2, ["--crowd"]),
        Case("split", _coco(tmp_path, "--split", "0.5,0.6,0.1", "--out", out), 2, ["--split"]),
        Case("priority", _coco(tmp_path, "--priority", "dog", "--out", out), 2, ["--priority"]),
        Case(
            "void",
            ["prepare", "camvid", "--root", camvid, "--void", "x", "--out", out],
            2,
            ["--void"],
        ),
        Case(
            "voc split",
            ["prepare", "voc", "--root", voc, "--split", "1", "--out", out],
            2,
            ["--split"],
        ),
        Case(
            "val",
            ["prepare", "folder", "--root", folder, "--val", "0.6", "--test", "0.5", "--out", out],
            2,
            ["--val"],
        ),
    ]
    for case in cases:
        assert_refused(cli, case, tmp_path)


def test_output_over_an_input_is_refused(tmp_path: Path, cli) -> None:
    raw = tmp_path / "raw"
    coco_raw(raw).write()
    camvid = camvid_raw(tmp_path / "camvid")
    voc = voc_pairs(tmp_path / "voc")
    folder = image_folder(tmp_path / "folder")
    cases = [
        Case("is images", _coco(tmp_path, "--out", raw / "images"), 2, ["is the input --images"]),
        Case("in images", _coco(tmp_path, "--out", raw / "images" / "p"), 2, ["lies inside"]),
        Case(
            "holds annotations",
            _coco(tmp_path, "--out", raw, "--overwrite"),
            2,
            ["contains the input --annotations"],
        ),
        Case(
            "camvid",
            ["prepare", "camvid", "--root", camvid, "--out", camvid / "prepared"],
            2,
            ["--root"],
        ),
        Case("voc", ["prepare", "voc", "--root", voc, "--out", voc, "--overwrite"], 2, ["--root"]),
        Case(
            "folder", ["prepare", "folder", "--root", folder, "--out", folder / "c"], 2, ["--root"]
        ),
    ]
    for case in cases:
        assert_refused(cli, case, tmp_path)
    assert cli(*_coco(tmp_path, "--out", tmp_path / "data")).exit_code == 0
    case = Case(
        "stats",
        ["prepare", "stats", tmp_path / "data", "--out", tmp_path / "data" / "masks" / "x"],
        2,
        ["lies inside the input"],
    )
    assert_refused(cli, case, tmp_path)


def test_unreadable_and_unwritable_files(tmp_path: Path, cli, monkeypatch) -> None:
    """A file the command may not read or a folder it may not write: the message names it."""
    import os

    ann = coco_raw(tmp_path / "raw").write()
    monkeypatch.setattr("cvtool.core.outputs.os.access", lambda path, mode: not mode & os.W_OK)
    case = Case(
        "unwritable out",
        _coco(tmp_path, "--out", tmp_path / "o"),
        1,
        ["--out", "permission denied in"],
    )
    assert_refused(cli, case, tmp_path)
    monkeypatch.undo()
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    ann.chmod(0)
    try:
        case = Case("unreadable", _coco(tmp_path, "--out", tmp_path / "o"), 2, [str(ann)])
        assert_refused(cli, case, tmp_path)
    finally:
        ann.chmod(0o644)


def test_file_error_inside_a_stage_names_the_file(tmp_path: Path, cli, monkeypatch) -> None:
    """An OSError no check foresaw is reported with its file, not as `unexpected`."""
    from cvtool.formats import folders

    root = image_folder(tmp_path / "raw")

    def denied(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied", str(src))

    monkeypatch.setattr(folders, "link_or_copy", denied)
    before = disk_state(tmp_path)
    result = cli("prepare", "folder", "--root", root, "--out", tmp_path / "o", "--workers", 1)
    assert result.exit_code == 1 and "Permission denied: " in result.stderr
    assert str(root) in result.stderr and "unexpected" not in result.stderr
    assert disk_state(tmp_path) == before
