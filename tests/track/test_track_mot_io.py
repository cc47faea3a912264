"""MOTChallenge IO: parsing, ordering, and every bad-input case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cvtool.core.errors import CvtoolError
from cvtool.track.mot import (
    find_sequences,
    frame_offsets,
    read_mot_txt,
    read_seqinfo,
    write_results,
)


def test_seqinfo_parsed(make_sequence) -> None:
    info = read_seqinfo(make_sequence(length=7, frame_rate=14))
    assert (info.name, info.length, info.frame_rate, info.width, info.height) == (
        "SEQ-01",
        7,
        14.0,
        200,
        100,
    )


def test_missing_seqinfo_is_derived_from_det_and_gt(make_sequence) -> None:
    seq = make_sequence(
        seqinfo=False,
        det=[[1, -1, 0, 0, 5, 5, 0.9], [9, -1, 0, 0, 5, 5, 0.9]],
        gt=[[3, 1, 0, 0, 5, 5, 1, 1, 1]],
    )
    info = read_seqinfo(seq)
    assert (info.length, info.frame_rate, info.width) == (9, 30.0, None)


def test_missing_seqinfo_with_nothing_to_derive_names_what_is_missing(make_sequence) -> None:
    seq = make_sequence(seqinfo=False)
    with pytest.raises(CvtoolError, match=r"no seqinfo\.ini") as e:
        read_seqinfo(seq)
    assert "seqLength" in (e.value.hint or "")


def test_broken_seqinfo_names_file(make_sequence) -> None:
    seq = make_sequence()
    (seq / "seqinfo.ini").write_text("[Sequence]\nname=x\n")
    with pytest.raises(CvtoolError, match=r"seqinfo\.ini is not a valid"):
        read_seqinfo(seq)


def test_seven_column_mot15_det_file_is_padded(tmp_path: Path) -> None:
    path = tmp_path / "det.txt"
    path.write_text("1,-1,10,20,30,40,0.5\n2,-1,11,21,31,41,0.6\n")
    rows = read_mot_txt(path, length=2)
    assert rows.shape == (2, 10)
    np.testing.assert_array_equal(rows[0], [1, -1, 10, 20, 30, 40, 0.5, -1, -1, -1])


def test_unsorted_rows_are_sorted_stably_by_frame(tmp_path: Path) -> None:
    path = tmp_path / "gt.txt"
    path.write_text("2,1,0,0,1,1,1\n1,5,0,0,1,1,1\n2,0,0,0,1,1,1\n1,3,0,0,1,1,1\n")
    rows = read_mot_txt(path)
    np.testing.assert_array_equal(rows[:, :2], [[1, 5], [1, 3], [2, 1], [2, 0]])


def test_frames_without_detections_give_empty_slices(tmp_path: Path) -> None:
    path = tmp_path / "det.txt"
    path.write_text("1,-1,0,0,1,1,1\n4,-1,0,0,1,1,1\n4,-1,5,5,1,1,1\n")
    rows = read_mot_txt(path, length=5)
    offsets = frame_offsets(rows, 5)
    assert np.diff(offsets).tolist() == [1, 0, 0, 2, 0]


def test_empty_file_gives_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "det.txt"
    path.write_text("")
    assert read_mot_txt(path).shape == (0, 10)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,-1,0,0,-3,4,1\n", "line 1: negative or non-finite box"),
        ("1,-1,0,0,3,4,1\n1,-1,0,0,3,-4,1\n", "line 2: negative"),
        ("1,-1,0,0,3\n", "has 5 columns"),
        ("1;-1;0;0;3;4;1\n", "not MOTChallenge CSV"),
        ("0,-1,0,0,3,4,1\n", "frame 0 is outside 1..3"),
        ("4,-1,0,0,3,4,1\n", "frame 4 is outside 1..3"),
        ("1.5,-1,0,0,3,4,1\n", "frame 1.5 is outside"),
    ],
)
def test_bad_rows_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "det.txt"
    path.write_text(text)
    with pytest.raises(CvtoolError, match=message) as e:
        read_mot_txt(path, "detection file", length=3)
    assert str(path) in e.value.message


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CvtoolError, match="detection file not found"):
        read_mot_txt(tmp_path / "nope.txt", "detection file")


def test_unknown_sequence_lists_available(make_sequence) -> None:
    seq = make_sequence("A-01")
    make_sequence("B-02")
    with pytest.raises(CvtoolError, match="C-03 not found") as e:
        find_sequences(seq.parent, ["C-03"])
    assert e.value.hint == "available: A-01, B-02"
    assert [s.name for s in find_sequences(seq.parent, ["B-02"])] == ["B-02"]


def test_root_without_sequences(tmp_path: Path) -> None:
    with pytest.raises(CvtoolError, match="holds no MOTChallenge sequences"):
        find_sequences(tmp_path)
    with pytest.raises(CvtoolError, match="does not exist"):
        find_sequences(tmp_path / "missing")


def test_results_round_trip_sorted(tmp_path: Path) -> None:
    rows = np.array([[2, 1, 1.5, 2.25, 3, 4, 0.9], [1, 2, 0, 0, 1, 1, 1], [1, 1, 5, 5, 1, 1, 0.5]])
    path = write_results(tmp_path / "r.txt", rows)
    assert path.read_text().splitlines() == [
        "1,1,5.00,5.00,1.00,1.00,0.5,-1,-1,-1",
        "1,2,0.00,0.00,1.00,1.00,1,-1,-1,-1",
        "2,1,1.50,2.25,3.00,4.00,0.9,-1,-1,-1",
    ]
    np.testing.assert_array_equal(read_mot_txt(path)[:, :7], rows[[2, 1, 0]])
