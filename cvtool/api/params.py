"""Stage arguments as the command line accepts them, turned into the values the library takes.

Every helper receives the value and the name of the Python parameter it came from; a value that
cannot work raises `ParameterError` naming that parameter (`err.param`), never a CLI flag. The
command line passes its option strings through these same helpers.

>>> as_size("180x240", "size"), as_size((180, 240), "size"), as_size("256", "size")
((180, 240), (180, 240), 256)
>>> as_names("person, car", "classes")
['person', 'car']
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.core.transforms import Size, parse_size

PathLike = str | os.PathLike[str]
SizeLike = int | str | Sequence[int] | None
NamesLike = str | Sequence[str] | None
NumbersLike = str | Sequence[float]
ShardLike = str | Sequence[int] | None

T = TypeVar("T")


def _is_sequence(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def as_path(value: PathLike, param: str) -> Path:
    """A `str` or `os.PathLike` as a `Path`."""
    if not isinstance(value, str | os.PathLike) or value == "":
        raise ParameterError(f"{param} must be a path (str or Path), got {value!r}", param)
    return Path(value)


def as_optional_path(value: PathLike | None, param: str) -> Path | None:
    """`as_path`, with `None` kept as `None`."""
    return None if value is None else as_path(value, param)


def as_paths(value: PathLike | Sequence[PathLike], param: str) -> list[Path]:
    """One path or a sequence of paths as a non-empty list of `Path`."""
    items = [value] if isinstance(value, str | os.PathLike) else value
    if not _is_sequence(items) or not items:
        raise ParameterError(f"{param} needs one path or a non-empty sequence of paths", param)
    return [as_path(v, param) for v in items]


def as_names(value: NamesLike, param: str) -> list[str]:
    """`"a,b, c"` or `["a", "b", "c"]` -> `["a", "b", "c"]` (blank items dropped); None -> []."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not _is_sequence(items) or not all(isinstance(v, str) for v in items):
        raise ParameterError(
            f"{param} expects names, as a comma-separated string or a list of strings, "
            f"got {value!r}",
            param,
        )
    return [v.strip() for v in items if v.strip()]


def as_numbers(value: NumbersLike, count: int, param: str) -> tuple[float, ...]:
    """`"0.1,0.2,0.3"` or `(0.1, 0.2, 0.3)` -> `count` floats."""
    items = value.split(",") if isinstance(value, str) else value
    try:
        numbers = tuple(float(v) for v in items)
    except (TypeError, ValueError):
        numbers = ()
    if len(numbers) != count:
        raise ParameterError(
            f"{param} expects {count} numbers (comma-separated or a sequence), got {value!r}",
            param,
        )
    return numbers


def as_fractions(value: NumbersLike, count: int, param: str) -> tuple[float, ...]:
    """`as_numbers`, and the numbers must be non-negative and sum to 1."""
    numbers = as_numbers(value, count, param)
    if any(n < 0 for n in numbers) or abs(sum(numbers) - 1) > 1e-6:
        raise ParameterError(
            f"{param} expects {count} non-negative fractions summing to 1, got {value!r}", param
        )
    return numbers


def as_size(value: SizeLike, param: str) -> Size:
    """`256`/`"256"` -> 256 (shorter side); `(180, 240)`/`"180x240"` -> (180, 240) (height x
    width); `None`/`""` -> None (keep the original size)."""
    if isinstance(value, str):
        try:
            return parse_size(value, param)
        except CvtoolError as e:
            raise ParameterError(e.message, param, e.hint) from None
    if value is None:
        return None
    parts = [value] if isinstance(value, int) else list(value) if _is_sequence(value) else []
    if (
        len(parts) not in (1, 2)
        or not all(isinstance(p, int) and not isinstance(p, bool) for p in parts)
        or min(parts) <= 0
    ):
        raise ParameterError(
            f"{param} expects N or (H, W) with positive integers, or 'N'/'HxW', got {value!r}",
            param,
        )
    return parts[0] if len(parts) == 1 else (parts[0], parts[1])


def as_shard(value: ShardLike, param: str = "shard") -> tuple[int, int] | None:
    """`"2/4"` or `(2, 4)` -> `(2, 4)`: the third of four interleaved shards (0-based index)."""
    if value is None or value == "":
        return None
    items = value.split("/") if isinstance(value, str) else value
    try:
        index, count = (int(v) for v in items)
    except (TypeError, ValueError):
        raise ParameterError(
            f"{param} expects INDEX/COUNT such as '0/4' or (0, 4), got {value!r}", param
        ) from None
    if count < 1 or not 0 <= index < count:
        raise ParameterError(f"{param} {value!r}: INDEX must be in 0..COUNT-1", param)
    return index, count


def as_choice(value: str, choices: Sequence[str], param: str) -> str:
    """`value` when it is one of `choices`."""
    if value not in choices:
        raise ParameterError(f"{param} must be one of {', '.join(choices)}; got {value!r}", param)
    return value


def as_dataclass(cls: type[T], options: Mapping[str, Any], what: str) -> T:
    """`cls(**options)`; an unknown keyword raises `ParameterError` naming it and listing the
    keywords `what` takes (the fields of `cls`)."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = [k for k in options if k not in names]
    if unknown:
        raise ParameterError(
            f"{what} takes no parameter {unknown[0]!r}; valid: {', '.join(names)}", unknown[0]
        )
    return cls(**options)
