"""Arguments as the command line takes them: sizes, name lists, fractions, shards, options."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cvtool.api.params import (
    as_choice,
    as_dataclass,
    as_fractions,
    as_names,
    as_path,
    as_paths,
    as_shard,
    as_size,
)
from cvtool.core.errors import ParameterError


def assert_names_param(error: pytest.ExceptionInfo[ParameterError], param: str) -> None:
    assert error.value.param == param
    assert param in error.value.message and "--" not in str(error.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("180x240", (180, 240)),
        ("180X240", (180, 240)),
        ((180, 240), (180, 240)),
        ([180, 240], (180, 240)),
        ("256", 256),
        (256, 256),
        ("", None),
        (None, None),
    ],
)
def test_size(value: object, expected: object) -> None:
    assert as_size(value, "size") == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["abc", "0x5", "12x", (1, 2, 3), (0, 4), True, 1.5, (2.0, 3)])
def test_bad_size_names_the_parameter(value: object) -> None:
    with pytest.raises(ParameterError) as error:
        as_size(value, "crop")  # type: ignore[arg-type]
    assert_names_param(error, "crop")


def test_names() -> None:
    assert as_names("person, car,,bus ", "classes") == ["person", "car", "bus"]
    assert as_names(("person", "car"), "classes") == ["person", "car"]
    assert as_names(None, "classes") == []
    with pytest.raises(ParameterError) as error:
        as_names([1, 2], "classes")  # type: ignore[list-item]
    assert_names_param(error, "classes")


def test_fractions() -> None:
    assert as_fractions("0.7,0.15,0.15", 3, "split") == (0.7, 0.15, 0.15)
    assert as_fractions([0.5, 0.5, 0], 3, "split") == (0.5, 0.5, 0.0)
    for bad in ("0.7,0.3", "0.5,0.5,0.5", "a,b,c", (0.5, -0.5, 1.0), 3):
        with pytest.raises(ParameterError) as error:
            as_fractions(bad, 3, "split")  # type: ignore[arg-type]
        assert_names_param(error, "split")


def test_shard() -> None:
    assert as_shard("1/4") == (1, 4)
    assert as_shard((0, 2)) == (0, 2)
    assert as_shard(None) is None
    for bad in ("4/4", "1-4", (1,), "-1/2"):
        with pytest.raises(ParameterError) as error:
            as_shard(bad)
        assert_names_param(error, "shard")


def test_paths_and_choices(tmp_path) -> None:
    assert as_path(str(tmp_path), "out") == tmp_path
    assert as_paths(tmp_path, "eval_dirs") == [tmp_path]
    assert as_paths([str(tmp_path), tmp_path], "eval_dirs") == [tmp_path, tmp_path]
    with pytest.raises(ParameterError) as error:
        as_path(3, "out")  # type: ignore[arg-type]
    assert_names_param(error, "out")
    with pytest.raises(ParameterError) as error:
        as_paths([], "eval_dirs")
    assert_names_param(error, "eval_dirs")
    with pytest.raises(ParameterError) as error:
        as_choice("sort", ["iou", "bytetrack"], "tracker")
    assert_names_param(error, "tracker")


def test_dataclass_options() -> None:
    @dataclass
    class Settings:
        min_iou: float = 0.3
        max_lost: int = 5

    assert as_dataclass(Settings, {"max_lost": 2}, "tracker 'iou'") == Settings(0.3, 2)
    with pytest.raises(ParameterError) as error:
        as_dataclass(Settings, {"min_io": 0.5}, "tracker 'iou'")
    assert_names_param(error, "min_io")
    assert "min_iou, max_lost" in error.value.message
