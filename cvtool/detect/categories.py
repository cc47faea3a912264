"""Map a detector's class names to the category ids of a COCO annotation file.

Names match after normalising case, underscores, hyphens and spaces ("Traffic_Light" ==
"traffic light"), which is how an 80-class COCO model lands on the file's 91-id scheme. A
mapping file, or "index" (class i -> the i-th category by id), overrides or completes it.
"""

from __future__ import annotations

import re
from pathlib import Path

from cvtool.core.artifacts import read_json
from cvtool.core.errors import CvtoolError


def normalize(name: str) -> str:
    return re.sub(r"[\s_\-]+", " ", str(name)).strip().lower()


def map_categories(
    class_names: dict[int, str], categories: dict[int, str], override: str | Path | None = None
) -> tuple[dict[int, int], list[str]]:
    """Return {model class index: category id} and the model class names left unmapped."""
    if override == "index":
        return _by_index(class_names, categories), []
    by_name: dict[str, int] = {}
    for cat_id, name in categories.items():
        key = normalize(name)
        if key in by_name:
            raise CvtoolError(f"two categories normalise to the same name {key!r}")
        by_name[key] = cat_id
    mapping = {i: by_name[normalize(n)] for i, n in class_names.items() if normalize(n) in by_name}
    if override is not None:
        mapping.update(_from_file(Path(override), class_names, categories, by_name))
    unmatched = [class_names[i] for i in sorted(class_names) if i not in mapping]
    return mapping, unmatched


def _by_index(class_names: dict[int, str], categories: dict[int, str]) -> dict[int, int]:
    if len(class_names) != len(categories):
        raise CvtoolError(
            f"the index category map needs as many model classes ({len(class_names)}) as "
            f"categories in the annotation file ({len(categories)})",
            param="category_map",
        )
    return dict(zip(sorted(class_names), sorted(categories), strict=True))


def _from_file(
    path: Path, class_names: dict[int, str], categories: dict[int, str], by_name: dict[str, int]
) -> dict[int, int]:
    """`{"model class name or index": "category name or id", ...}`."""
    raw = read_json(path, "category map")
    if not isinstance(raw, dict):
        raise CvtoolError(f"category map {path} must be a JSON object {{model class: category}}")
    index_of = {normalize(n): i for i, n in class_names.items()}
    mapping = {}
    for key, value in raw.items():
        k = (
            int(key)
            if str(key).isdigit() and int(key) in class_names
            else index_of.get(normalize(key))
        )
        if k is None:
            raise CvtoolError(f"category map {path}: {key!r} is not a class of the model")
        if isinstance(value, int) or str(value).isdigit():
            v = int(value)
            if v not in categories:
                raise CvtoolError(
                    f"category map {path}: category id {v} is not in the annotation file"
                )
        else:
            v = by_name.get(normalize(value))  # type: ignore[assignment]
            if v is None:
                raise CvtoolError(
                    f"category map {path}: category {value!r} is not in the annotation file"
                )
        mapping[k] = v
    return mapping
