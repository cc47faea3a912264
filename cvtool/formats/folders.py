"""`prepare folder`: an image-folder classification set (`ROOT/<class>/**/<image>`) with
stratified train/val/test splits written as `splits/<split>.csv` (`path,label`).

Every image is fully decoded once; unreadable or truncated files are reported and skipped.
"""

from __future__ import annotations

from pathlib import Path

from cvtool.core.artifacts import (
    SPLITS,
    DatasetManifest,
    staged_output_dir,
)
from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.core.images import is_image_file, link_or_copy, load_pixels
from cvtool.core.outputs import is_hidden, visible
from cvtool.core.palette import voc_classes
from cvtool.core.parallel import parallel_map
from cvtool.formats.layout import IMAGES_DIR, PreparedDataset
from cvtool.formats.splits import stratified_split, write_split_csvs


def check_image(path: str) -> str | None:
    """None if `path` decodes, else the reason it does not."""
    try:
        load_pixels(path).close()
    except CvtoolError as e:
        return e.message
    return None


def scan(root: Path) -> tuple[dict[str, str], list[str], int]:
    """`{"<class>/<relative path>": class}` for every image file, the empty class folders, and
    the number of non-image files ignored."""
    if not root.is_dir():
        raise CvtoolError(f"image folder not found: {root}")
    class_dirs = [p for p in visible(root) if p.is_dir()]
    if not class_dirs:
        raise CvtoolError(f"{root} has no class subfolders", "expected ROOT/<class>/<image> files")
    items: dict[str, str] = {}
    empty: list[str] = []
    ignored = 0
    for class_dir in class_dirs:
        files = [p for p in class_dir.rglob("*") if p.is_file() and not is_hidden(p, root)]
        images = [p for p in files if is_image_file(p)]
        ignored += len(files) - len(images)
        if not images:
            empty.append(class_dir.name)
        for p in images:
            items[p.relative_to(root).as_posix()] = class_dir.name
    return items, empty, ignored


def prepare_folder(
    root: Path,
    out: Path,
    *,
    val: float = 0.2,
    test: float = 0.0,
    seed: int = 0,
    workers: int | None = None,
    overwrite: bool = False,
) -> PreparedDataset:
    """Prepare a classification directory at `out` from `root/<class>/<image>` folders.

    >>> prepare_folder(Path("RussianWildlife"), Path("data/wildlife"), val=0.2)  # doctest: +SKIP
    """
    root, out = Path(root), Path(out)
    if val < 0 or test < 0 or val + test >= 1:
        raise ParameterError(
            f"the validation ({val}) and test ({test}) fractions must be >= 0 and sum to less "
            "than 1",
            "val",
        )
    items, empty, ignored = scan(root)
    keys = sorted(items)
    problems = dict(
        zip(
            keys,
            parallel_map(check_image, [str(root / k) for k in keys], workers, "checking images"),
            strict=True,
        )
    )
    skipped = {k: reason for k, reason in problems.items() if reason}
    labels = {k: c for k, c in items.items() if k not in skipped}
    class_names = sorted(set(labels.values()))
    if not class_names:
        raise CvtoolError(f"{root}: no readable images in any class folder")
    splits = stratified_split(labels, (1 - val - test, val, test), seed)
    classes = voc_classes(class_names)
    per_class = {
        s: {c: sum(labels[k] == c for k in splits[s]) for c in class_names} for s in SPLITS
    }
    with staged_output_dir(out, overwrite) as staging:
        for key in labels:
            link_or_copy(root / key, staging / IMAGES_DIR / key)
        write_split_csvs(
            staging, {s: [(f"{IMAGES_DIR}/{k}", labels[k]) for k in splits[s]] for s in SPLITS}
        )
        manifest = DatasetManifest(
            task="classification",
            classes=classes,
            source={"format": "image-folder", "root": str(root.resolve())},
            splits={s: len(splits[s]) for s in SPLITS},
            extra={
                "fractions": {"train": 1 - val - test, "val": val, "test": test},
                "seed": seed,
                "images_per_class": per_class,
                "skipped_unreadable": skipped,
                "empty_class_folders": empty,
                "non_image_files_ignored": ignored,
            },
        )
        manifest.save(staging)
    summary = {
        "task": "classification",
        "classes": class_names,
        "splits": manifest.splits,
        "skipped_unreadable": len(skipped),
        "empty_class_folders": empty,
    }
    return PreparedDataset(out, manifest, summary)
