"""The on-disk contract between stages: manifests as dataclasses <-> JSON, and atomic writes.

Every artifact is written to a temporary file in the same directory and moved into place with
`os.replace`, so a killed run never leaves a half-written file that a later stage would trust.
Whole output directories are built in a hidden staging directory, under the output's lock, and
swapped in at the end (`cvtool.core.outputs`, `cvtool.core.locks`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from cvtool.core.console import note
from cvtool.core.errors import CvtoolError
from cvtool.core.locks import held_by_other, output_lock
from cvtool.core.outputs import (
    carry,
    changed_entries,
    check_not_staging,
    check_writable,
    remove_debris,
    remove_temp_files,
    staging_dir,
    swap_in,
    temp_file_beside,
)
from cvtool.core.provenance import invocation, utc_now

SCHEMA_VERSION = 1
IGNORE_INDEX = 255
DATASET_MANIFEST = "dataset.json"
SPLITS = ("train", "val", "test")

Task = Literal["segmentation", "classification"]
RGB = tuple[int, int, int]


# --------------------------------------------------------------------------- atomic writes
@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `path` (same suffix); move it onto `path` on success."""
    path = Path(path)
    tmp = temp_file_beside(path, path.suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    atomic_write_text(path, json_text(obj))


def json_text(obj: Any) -> str:
    """The JSON text every artifact is written with (paths and numpy values allowed)."""
    return json.dumps(obj, indent=2, default=_json_default) + "\n"


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist"):  # numpy scalars and arrays
        return obj.tolist()
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text with newline line ends; None cells are written empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return buffer.getvalue()


def read_json(
    path: str | os.PathLike[str], what: str = "JSON file", hint: str | None = None
) -> Any:
    """Load JSON, turning a missing file or a syntax error into a CvtoolError naming the file
    (with `hint`, how to get a good one)."""
    path = Path(path)
    if not path.is_file():
        raise CvtoolError(f"{what} not found: {path}", hint)
    try:
        with path.open("rb") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise CvtoolError(
            f"{what} {path} is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})", hint
        ) from None
    except UnicodeDecodeError:
        raise CvtoolError(f"{what} {path} is not a UTF-8 text file", hint) from None
    except OSError as e:
        raise CvtoolError(
            f"cannot read {what} {path}: {e.strerror}", "check the file's permissions"
        ) from None


def read_json_object(
    path: str | os.PathLike[str],
    what: str,
    fields: dict[str, type | tuple[type, ...]],
    hint: str | None = None,
) -> dict[str, Any]:
    """`read_json` of an object holding `fields` of the given types, so that an edited or
    truncated artifact is refused with the file and the field named, not used half-read."""
    data = read_json(path, what, hint)
    if not isinstance(data, dict):
        raise CvtoolError(f"{what} {path} is not a JSON object", hint)
    for name, kind in fields.items():
        if not isinstance(data.get(name), kind):
            problem = "has no" if name not in data else "has a malformed"
            raise CvtoolError(f"{what} {path} {problem} field {name!r}", hint)
    return data


@contextmanager
def staged_output_dir(
    out: str | os.PathLike[str],
    overwrite: bool = False,
    owns: Sequence[str] | None = None,
) -> Iterator[Path]:
    """Build an output directory in a hidden sibling and swap it in only when complete.

    The output's lock (`cvtool.core.locks`) is held throughout, so a second writer of `out`
    is refused. A non-empty `out` is refused unless `overwrite`; on any failure the staging
    directory is removed and whatever was at `out` before is untouched. The swap is atomic
    where the system allows (`cvtool.core.outputs.swap_in`).

    `owns`: the entries a stage adds to a directory that holds other things (an evaluation
    written into the run dir it evaluates). Then only those entries count as existing output;
    the others are carried into the new version unchanged, and the swap is refused if one
    of them changed meanwhile.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CvtoolError(
            f"output {out} exists and is not a directory", "choose another directory", param="out"
        )
    check_writable(out)
    with output_lock(out) as lock:
        if lock.stale is not None:
            note(f"took over the lock of {out} left by {lock.stale.describe()}, no longer running")
        remove_debris(out)
        check_replaceable(out, overwrite, owns)
        shared = owns is not None and out.is_dir()
        if shared:
            _check_no_other_writer(out)
        staging = staging_dir(out)
        try:
            carried = carry(out, staging, owns or ()) if shared else {}
            yield staging
            if shared:
                _check_no_other_writer(out)
                _check_unchanged(out, carried, owns or ())
            swap_in(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def check_replaceable(out: Path, overwrite: bool, owns: Sequence[str] | None = None) -> None:
    """Refuse a non-empty output directory (with `owns`: one holding those entries) unless
    `overwrite`. `staged_output_dir` checks it under the lock; a stage may check it first too,
    to refuse before its work rather than after."""
    if not out.is_dir() or overwrite:
        return
    existing = sorted(p.name for p in out.iterdir() if owns is None or p.name in owns)
    if existing:
        what = (
            "already exists and is not empty"
            if owns is None
            else f"already holds {', '.join(existing)}"
        )
        raise CvtoolError(
            f"output directory {out} {what}",
            "pass `overwrite=True` to replace it, or choose another directory",
            param="out",
        )


def check_file_replaceable(path: Path, overwrite: bool) -> None:
    """Refuse an existing single-file output unless `overwrite`."""
    if path.exists() and not overwrite:
        raise CvtoolError(
            f"{path} already exists", "pass `overwrite=True` to replace it", param="out"
        )


@contextmanager
def replaced_file(path: str | os.PathLike[str], overwrite: bool = False) -> Iterator[Path]:
    """A single-file output: yield a temporary path that becomes `path` on success.

    The file's lock is held throughout, the temporary files of an interrupted writer of it are
    removed, and an existing `path` is refused unless `overwrite` (see `atomic_path`)."""
    path = Path(path)
    check_writable(path)
    with output_lock(path):
        remove_temp_files(path)
        check_file_replaceable(path, overwrite)
        with atomic_path(path) as tmp:
            yield tmp


def _check_no_other_writer(out: Path) -> None:
    """Refuse to replace a directory in which another process is writing an output."""
    for path in sorted(out.glob(".*.lock")):
        owner = held_by_other(path)
        if owner is not None:
            raise CvtoolError(
                f"not writing {out}: {owner.describe()} is writing into it ({path})",
                "run again when it has finished",
                param="out",
            )


def _check_unchanged(out: Path, carried: dict[str, tuple[int, int]], owns: Sequence[str]) -> None:
    """Refuse to swap when an entry carried into the new version changed meanwhile."""
    changed = changed_entries(out, carried, owns)
    if changed:
        raise CvtoolError(
            f"not replacing {out}: {', '.join(changed)} changed while it was being written",
            "run again",
            param="out",
        )


# --------------------------------------------------------------------------- dataset manifest
@dataclass(frozen=True)
class ClassInfo:
    id: int
    name: str
    color: RGB

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str) -> ClassInfo:
        try:
            color = tuple(int(c) for c in d["color"])
            info = cls(id=int(d["id"]), name=str(d["name"]), color=color)  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError) as e:
            raise CvtoolError(f"{where}: malformed class entry {d!r} ({e})") from None
        if len(info.color) != 3 or not all(0 <= c <= 255 for c in info.color):
            raise CvtoolError(f"{where}: class {info.name!r} colour {d['color']} is not RGB 0-255")
        return info


@dataclass
class DatasetManifest:
    """`dataset.json`: what a prepared dataset directory contains.

    Segmentation masks hold class ids `0..len(classes)-1` and `ignore_index` for unlabelled
    pixels. Classification sets list `path,label` rows in `splits/<split>.csv`. `command` and
    `created` default to this process's (`cvtool.core.provenance`).
    """

    task: Task
    classes: list[ClassInfo]
    source: dict[str, Any] = field(default_factory=dict)
    command: str = field(default_factory=invocation)
    created: str = field(default_factory=utc_now)
    ignore_index: int = IGNORE_INDEX
    splits: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def class_names(self) -> list[str]:
        return [c.name for c in self.classes]

    def validate(self, where: str = DATASET_MANIFEST) -> None:
        if self.task not in ("segmentation", "classification"):
            raise CvtoolError(f"{where}: unknown task {self.task!r}")
        if not self.classes:
            raise CvtoolError(f"{where}: no classes")
        ids = [c.id for c in self.classes]
        if ids != list(range(len(ids))):
            raise CvtoolError(f"{where}: class ids must be 0..{len(ids) - 1} in order, got {ids}")
        names = [c.name for c in self.classes]
        if len(set(names)) != len(names):
            raise CvtoolError(f"{where}: duplicate class names in {names}")
        if not 0 <= self.ignore_index <= 255 or self.ignore_index < len(self.classes):
            raise CvtoolError(
                f"{where}: ignore_index {self.ignore_index} must be in 0-255 and above the "
                "class ids"
            )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["classes"] = [{"id": c.id, "name": c.name, "color": list(c.color)} for c in self.classes]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = DATASET_MANIFEST) -> DatasetManifest:
        if not isinstance(d, dict):
            raise CvtoolError(f"{where}: expected a JSON object")
        version = d.get("schema_version")
        if version != SCHEMA_VERSION:
            raise CvtoolError(
                f"{where}: schema version {version!r} is not supported (expected {SCHEMA_VERSION})",
                "re-run `cvtool prepare` with this version of cvtool",
            )
        try:
            classes = [ClassInfo.from_dict(c, where) for c in d["classes"]]
            manifest = cls(
                task=d["task"],
                classes=classes,
                source=dict(d.get("source", {})),
                command=str(d.get("command", "")),
                created=str(d.get("created", "")),
                ignore_index=int(d.get("ignore_index", IGNORE_INDEX)),
                splits={str(k): int(v) for k, v in dict(d.get("splits", {})).items()},
                extra=dict(d.get("extra", {})),
            )
        except KeyError as e:
            raise CvtoolError(f"{where}: missing field {e.args[0]!r}") from None
        except (TypeError, ValueError) as e:
            raise CvtoolError(f"{where}: malformed manifest ({e})") from None
        manifest.validate(where)
        return manifest

    def save(self, directory: str | os.PathLike[str]) -> Path:
        path = Path(directory) / DATASET_MANIFEST
        self.validate(str(path))
        atomic_write_json(path, self.to_dict())
        return path

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> DatasetManifest:
        directory = Path(directory)
        check_not_staging(directory, "dataset directory")
        path = directory / DATASET_MANIFEST
        if not path.is_file():
            hint = "prepare one with `cvtool prepare ...` first"
            if not directory.exists():
                raise CvtoolError(f"dataset directory {directory} does not exist", hint)
            raise CvtoolError(f"{directory} is not a prepared dataset: no {DATASET_MANIFEST}", hint)
        return cls.from_dict(read_json(path, "dataset manifest"), where=str(path))
