"""Safe extraction of selected archive members into a staging directory, then into place.

Only members named by the dataset's `Extract` rules are written. Every member name is checked
before anything is written: absolute paths, `..` components, links and device files are
refused, so an archive can never write outside the staging directory. The staged result is
moved into the download directory one destination at a time with `os.replace` (same
filesystem), so each destination is either the old one or the complete new one.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cvtool.core.console import make_progress
from cvtool.core.errors import CvtoolError
from cvtool.download.catalogue import Extract


@dataclass
class _Entry:
    name: str
    kind: str  # "file" | "dir" | "other"
    open: Callable[[], BinaryIO]


def _zip_entries(zf: zipfile.ZipFile) -> Iterator[_Entry]:
    for info in zf.infolist():
        mode = info.external_attr >> 16
        if info.is_dir():
            kind = "dir"
        elif stat.S_IFMT(mode) not in (0, stat.S_IFREG):
            kind = "other"  # a symlink or a special file stored by a Unix zip tool
        else:
            kind = "file"
        yield _Entry(info.filename, kind, lambda info=info: zf.open(info))


def _tar_entries(tf: tarfile.TarFile) -> Iterator[_Entry]:
    for member in tf:  # streams: the archive is read once, front to back
        kind = "file" if member.isfile() else "dir" if member.isdir() else "other"
        yield _Entry(member.name, kind, lambda m=member: tf.extractfile(m))  # type: ignore[misc]


def _safe_name(name: str, archive: Path) -> str:
    """`name` as a clean relative POSIX path; refuses absolute paths and `..`."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        raise CvtoolError(
            f"{archive} contains the unsafe path {name!r} (absolute or with '..'); "
            "nothing was extracted",
            "the archive is damaged or not the published one: delete it and download again",
        )
    return "/".join(parts)


def _destination(name: str, rules: Sequence[Extract]) -> tuple[int, str] | None:
    """(index of the matching rule, relative destination) or None when no rule wants it."""
    for i, rule in enumerate(rules):
        if name == rule.member:
            return i, rule.dest
        if name.startswith(rule.member + "/"):
            return i, rule.dest + name[len(rule.member) :]
    return None


def _entries(archive: Path) -> Iterator[_Entry]:
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            yield from _zip_entries(zf)
        return
    try:
        with tarfile.open(archive, "r|*") as tf:
            yield from _tar_entries(tf)
    except tarfile.TarError as e:
        raise CvtoolError(
            f"{archive} is not a readable zip or tar archive ({e})",
            "delete it and download it again",
        ) from None


def extract(archive: Path, rules: Sequence[Extract], staging: Path) -> int:
    """Write the members `rules` select from `archive` (zip or tar, any compression) under
    `staging`; returns the number of files written. Every rule must match something."""
    matched = [0] * len(rules)
    made: set[Path] = set()
    with make_progress(transient=True) as progress:
        task = progress.add_task(f"extracting {archive.name}", total=None, status="")
        for entry in _entries(archive):
            name = _safe_name(entry.name, archive)
            hit = _destination(name, rules)
            if hit is None:
                continue
            index, rel = hit
            if entry.kind == "other":
                raise CvtoolError(
                    f"{archive} member {entry.name!r} is a link or special file; refusing to "
                    "extract it",
                    "the archive is not the published one: delete it and download again",
                )
            target = staging / rel
            folder = target if entry.kind == "dir" else target.parent
            if folder not in made:
                folder.mkdir(parents=True, exist_ok=True)
                made.add(folder)
            if entry.kind == "dir":
                continue
            try:
                with entry.open() as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
            except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as e:
                raise CvtoolError(
                    f"{archive} member {entry.name!r} is damaged ({e})",
                    "delete the archive and download it again",
                ) from None
            matched[index] += 1
            progress.advance(task)
    missing = [rules[i].member for i, n in enumerate(matched) if n == 0]
    if missing:
        raise CvtoolError(
            f"{archive} has no {', '.join(repr(m) for m in missing)}: it is not laid out "
            "like the published archive",
            "check that the server (or mirror) serves the official file",
        )
    return sum(matched)


def install(staging: Path, target: Path, dests: Sequence[str]) -> None:
    """Move each staged destination onto `target/dest`, replacing what was there."""
    trash = Path(tempfile.mkdtemp(prefix=".replaced-", dir=staging.parent))
    try:
        for i, dest in enumerate(dests):
            src, dst = staging / dest, target / dest
            dst.parent.mkdir(parents=True, exist_ok=True)
            if dst.exists() or dst.is_symlink():
                os.replace(dst, trash / str(i))
            os.replace(src, dst)
    finally:
        shutil.rmtree(trash, ignore_errors=True)
