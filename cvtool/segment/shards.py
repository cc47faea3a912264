"""Which eval dirs `merge_evaluations` may join: all shards of one evaluation, each once.

A shard's `metrics.json` records `shard` (`"i/n"`), the dataset, split and source (model) it
scored, and `split_images`, the size of the whole split. A merge needs every shard `0/n` ..
`n-1/n` of one evaluation exactly once; otherwise it would report a part of the split, or
count images twice, as if it were the whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cvtool.core.artifacts import ClassInfo
from cvtool.core.console import note
from cvtool.core.errors import CvtoolError
from cvtool.core.evaldir import METRICS_FILE
from cvtool.segment.report import STATE_FILE

_SHARD = re.compile(r"^(\d+)/(\d+)$")
SPLIT_IMAGES = "split_images"  # metrics.json: images in the whole split (not just the shard)


def _shard(directory: Path, metrics: dict[str, Any]) -> tuple[int, int]:
    """The `(index, count)` a shard's metrics.json records; an unsharded evaluation is
    refused."""
    value = metrics.get("shard")
    if value is None:
        merged = metrics.get("merged_from")
        what = f"a merge of {len(merged)} shards" if isinstance(merged, list) else "unsharded"
        raise CvtoolError(
            f"{directory / METRICS_FILE} is {what}, not a shard: merging takes the eval dirs "
            "of the shards of one evaluation (each made with `shard` I/N)",
            "pass only shard eval dirs, all N of them",
        )
    match = _SHARD.match(value) if isinstance(value, str) else None
    if match is None or not int(match[1]) < int(match[2]):
        raise CvtoolError(f"{directory / METRICS_FILE} has a malformed field 'shard': {value!r}")
    return int(match[1]), int(match[2])


def identity(metrics: dict[str, Any], key: str) -> Any:
    """What must agree between shards (a shard may run on another device)."""
    value = metrics.get(key)
    if key == "source" and isinstance(value, dict):
        return {k: v for k, v in value.items() if k not in ("device", "amp")}
    return value


def check_complete(dirs: Sequence[Path], metas: Sequence[dict[str, Any]]) -> None:
    """Refuse shards that are not one complete, non-overlapping set of one evaluation:
    an unsharded input, shards of different counts, evaluations, splits or models, a shard
    given twice, or a missing one (each named with its directory)."""
    shards = [_shard(d, m) for d, m in zip(dirs, metas, strict=True)]
    counts = sorted({n for _, n in shards})
    if len(counts) > 1:
        listed = ", ".join(f"{i}/{n} ({d})" for (i, n), d in zip(shards, dirs, strict=True))
        raise CvtoolError(
            f"the shards come from splits into different numbers of shards: {listed}",
            "merge the shards of one evaluation, all with the same N",
        )
    for d, meta in zip(dirs[1:], metas[1:], strict=True):
        for key in ("dataset", "split", "source"):
            if identity(meta, key) != identity(metas[0], key):
                raise CvtoolError(
                    f"{d / METRICS_FILE}: {key} {identity(meta, key)!r} differs from "
                    f"{dirs[0] / METRICS_FILE} ({identity(metas[0], key)!r}); only shards of "
                    "one evaluation can be merged"
                )
    n = counts[0]
    where: dict[int, list[Path]] = {}
    for (i, _), d in zip(shards, dirs, strict=True):
        where.setdefault(i, []).append(d)
    twice = {i: ds for i, ds in where.items() if len(ds) > 1}
    if twice:
        listed = "; ".join(f"{i}/{n} in {', '.join(map(str, ds))}" for i, ds in twice.items())
        raise CvtoolError(
            f"shards given more than once: {listed}; merging would count their images twice",
            "give each shard's eval dir once",
        )
    missing = [i for i in range(n) if i not in where]
    if missing:
        raise CvtoolError(
            f"shards {', '.join(f'{i}/{n}' for i in missing)} missing: merging needs all {n} "
            f"shards of the evaluation (given: {', '.join(str(d) for d in dirs)})",
            "evaluate the missing shards, then merge all of them",
        )
    _check_split_size(dirs, metas)


def _check_split_size(dirs: Sequence[Path], metas: Sequence[dict[str, Any]]) -> None:
    """The shards' images add up to the split's size, where the shards record it (eval dirs
    of older versions do not)."""
    sizes = {d: m.get(SPLIT_IMAGES) for d, m in zip(dirs, metas, strict=True)}
    known = {d: s for d, s in sizes.items() if s is not None}
    for d, size in known.items():
        if isinstance(size, bool) or not isinstance(size, int):
            raise CvtoolError(
                f"{d / METRICS_FILE} has a malformed field {SPLIT_IMAGES!r}: {size!r}"
            )
    if len(set(known.values())) > 1:
        listed = ", ".join(f"{s} ({d})" for d, s in known.items())
        raise CvtoolError(
            f"the shards were made from splits of different sizes: {listed}; the split "
            "changed between them",
            "evaluate all shards of the split as it is now",
        )
    if not known:
        note(
            "the shards do not record their split's size (eval dirs of an older cvtool): the "
            "merged image count is not checked against it"
        )
        return
    total = sum(int(m["images"]) for m in metas)
    if total != next(iter(known.values())):
        raise CvtoolError(
            f"the shards hold {total} images but the split they come from has "
            f"{next(iter(known.values()))} ({', '.join(str(d) for d in dirs)})",
            "evaluate all shards of the split as it is now",
        )


def split_size(metas: Sequence[dict[str, Any]]) -> int | None:
    """The split's size as the shards record it (None when none of them does)."""
    return next((int(m[SPLIT_IMAGES]) for m in metas if m.get(SPLIT_IMAGES) is not None), None)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{value!r} is not a count")
    return value


@dataclass
class ShardFields:
    """What a merge takes from a shard's `metrics.json` besides its state, checked."""

    max_failures: int
    failure_candidates: int
    failures: list[dict[str, Any]]
    nonfinite: dict[str, int] | None

    @classmethod
    def read(cls, directory: Path, meta: dict[str, Any]) -> ShardFields:
        try:
            nonfinite = meta.get("nonfinite_outputs")
            failures = [
                {**f, "iou": float(f["iou"]), "name": str(f["name"]), "file": str(f["file"])}
                for f in meta["failures"]
            ]
            return cls(
                max_failures=_count(meta["settings"]["max_failures"]),
                failure_candidates=_count(meta.get("failure_candidates", 0)),
                failures=failures,
                nonfinite=None
                if nonfinite is None
                else {str(k): _count(v) for k, v in nonfinite.items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise CvtoolError(
                f"{directory / METRICS_FILE} is not what `evaluate` writes "
                f"({type(e).__name__}: {e})",
                "the file was edited or damaged: evaluate that shard again",
            ) from None


def merged_classes(
    dirs: Sequence[Path], metas: Sequence[dict[str, Any]], num_classes: int
) -> list[ClassInfo]:
    """The classes of the shards: the same in each, and those their states count (ids
    0..n-1)."""
    merged: list[ClassInfo] = []
    for directory, meta in zip(dirs, metas, strict=True):
        where = directory / METRICS_FILE
        classes = [ClassInfo.from_dict(c, str(where)) for c in meta["classes"]]
        if [c.id for c in classes] != list(range(num_classes)):
            raise CvtoolError(
                f"{where}: its classes (ids {[c.id for c in classes]}) are not the "
                f"{num_classes} classes of {directory / STATE_FILE}",
                "the file was edited or damaged: evaluate that shard again",
            )
        if merged and [c.name for c in classes] != [c.name for c in merged]:
            raise CvtoolError(
                f"{where}: its class names differ from those of {dirs[0] / METRICS_FILE}",
                "merge the shards of one evaluation",
            )
        merged = merged or classes
    return merged
