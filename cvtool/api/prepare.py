"""Prepare datasets from Python: COCO, CamVid, VOC and image folders, and class statistics.

Each function writes a prepared dataset directory (`dataset.json`, `images/`, `masks/`,
`splits/`) atomically and returns a `DatasetResult`; it prints nothing unless `progress=True`,
and then the progress bars, warnings about skipped input and the table of classes per split.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cvtool.api.params import (
    NamesLike,
    NumbersLike,
    PathLike,
    as_fractions,
    as_names,
    as_optional_path,
    as_path,
)
from cvtool.api.results import DatasetResult, StatsResult
from cvtool.core.console import console, literal, quiet, warn
from cvtool.core.outputs import check_out_not_input

if TYPE_CHECKING:
    from pathlib import Path

    from cvtool.core.artifacts import DatasetManifest
    from cvtool.formats.layout import PreparedDataset
    from cvtool.formats.stats import ClassDistribution

STAGE = "prepare"


def _out_dir(out: PathLike | None, kind: str) -> Path:
    """`out`, else the next free `runs/prepare/<kind>` directory."""
    from cvtool.core.rundirs import next_run_dir

    return as_optional_path(out, "out") or next_run_dir(STAGE, kind)


def _print_classes(prepared: PreparedDataset) -> None:
    """The classes of a prepared dataset with their pixels (or images) per split."""
    from rich.table import Table

    manifest = prepared.manifest
    table = Table(title=literal(f"{prepared.path} ({manifest.task})"))
    table.add_column("id", justify="right", overflow="fold")
    table.add_column("class", overflow="fold")
    splits = [s for s, n in manifest.splits.items() if n]
    pixels = manifest.extra.get("pixel_counts")
    for split in splits:
        table.add_column(f"{split} px" if pixels else split, justify="right", overflow="fold")
    counts = pixels or manifest.extra.get("images_per_class") or {}
    for c in manifest.classes:
        cells = (f"{counts[s].get(c.name, 0):,}" for s in splits)
        table.add_row(str(c.id), literal(c.name), *cells)
    if pixels:
        table.add_row("", "ignore (255)", *(f"{pixels[s]['ignore']:,}" for s in splits))
    table.add_row("", "images", *(str(manifest.splits[s]) for s in splits), style="bold")
    console.print(table)


def _print_distribution(data: Path, dist: ClassDistribution) -> None:
    """Counts and shares (%) of each class per split."""
    from rich.table import Table

    table = Table(title=literal(f"{data}: {dist.unit} per class"))
    table.add_column("class", overflow="fold")
    for split in dist.counts:
        table.add_column(split, justify="right", overflow="fold")
        table.add_column("%", justify="right", overflow="fold")
    for row in dist.rows:
        cells = []
        for split in dist.counts:
            cells += [f"{dist.counts[split][row]:,}", f"{100 * dist.fractions(split)[row]:.1f}"]
        table.add_row(literal(row), *cells)
    console.print(table)


def absent_classes(manifest: DatasetManifest) -> dict[str, list[str]]:
    """`{split: [class, ...]}`: the classes with no pixels (segmentation) or no images
    (classification) in a split that has images."""
    counts = manifest.extra.get("pixel_counts") or manifest.extra.get("images_per_class") or {}
    absent = {
        split: [c.name for c in manifest.classes if not counts.get(split, {}).get(c.name)]
        for split, images in manifest.splits.items()
        if images
    }
    return {split: names for split, names in absent.items() if names}


def _result(
    prepared: PreparedDataset, progress: bool, warnings: Sequence[str] = ()
) -> DatasetResult:
    """What a prepare function returns; with `progress`, `warnings`, the classes a split
    lacks and the class table are printed first."""
    manifest = prepared.manifest
    absent = absent_classes(manifest)
    unit = "pixels" if manifest.task == "segmentation" else "images"
    with quiet(not progress):
        for message in warnings:
            warn(message)
        for split, names in absent.items():
            warn(f"split {split} has no {unit} of {', '.join(names)}")
        _print_classes(prepared)
    summary = {**prepared.summary, "absent_classes": absent}
    return DatasetResult(
        prepared.path, manifest.task, manifest.class_names, dict(manifest.splits), summary
    )


def prepare_coco(
    annotations: PathLike,
    images: PathLike,
    classes: NamesLike,
    out: PathLike | None = None,
    *,
    priority: NamesLike = None,
    split: NumbersLike = (0.7, 0.15, 0.15),
    seed: int = 0,
    workers: int | None = None,
    include_empty: bool = False,
    crowd: str = "ignore",
    overwrite: bool = False,
    progress: bool = False,
) -> DatasetResult:
    """Semantic masks from COCO instance annotations (polygons, RLE, crowd regions).

    Args:
        annotations: COCO instances JSON file.
        images: folder with the annotated images.
        classes: category names, `"person,car"` or `["person", "car"]`; mask ids 1..K in order.
        out: dataset directory to write (default: the first free `runs/prepare/coco`,
            `coco2`, ...).
        priority: overlap priority, highest first (default: the `classes` order).
        split: train, val, test fractions, `"0.7,0.15,0.15"` or a tuple; the split is
            stratified by the classes each image holds.
        seed: seed of the split.
        workers: worker processes (default: all cores).
        include_empty: keep images without any of the classes (all background).
        crowd: crowd regions: `ignore` (255), `class` (painted), or `skip` (drop the image).
        overwrite: replace a non-empty `out`.
        progress: show progress bars, warnings and the class table on stderr.

    Returns:
        The dataset directory, its classes and images per split.
    """
    from cvtool.formats import coco

    annotations_file, images_dir = as_path(annotations, "annotations"), as_path(images, "images")
    out_dir = _out_dir(out, "coco")
    check_out_not_input(out_dir, {"annotations": annotations_file, "images": images_dir})
    with quiet(not progress):
        prepared = coco.prepare_coco(
            annotations_file,
            images_dir,
            as_names(classes, "classes"),
            out_dir,
            priority=as_names(priority, "priority"),
            split=as_fractions(split, 3, "split"),
            seed=seed,
            workers=workers,
            include_empty=include_empty,
            crowd=crowd,
            overwrite=overwrite,
        )
    return _result(prepared, progress)


def prepare_camvid(
    root: PathLike,
    out: PathLike | None = None,
    *,
    class_dict: PathLike | None = None,
    void: str = "ignore",
    workers: int | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> DatasetResult:
    """CamVid RGB or index labels -> index masks; keeps CamVid's own train/val/test split.

    Args:
        root: CamVid folder (Kaggle or SegNet layout).
        out: dataset directory to write (default: the first free `runs/prepare/camvid`, ...).
        class_dict: `name,r,g,b` CSV (default: `root/class_dict.csv`).
        void: Void/Unlabelled pixels: `ignore` (255) or `class`.
        workers: worker processes (default: all cores).
        overwrite: replace a non-empty `out`.
        progress: show progress bars, warnings and the class table on stderr.

    Returns:
        The dataset directory; `summary["unknown_pixels"]` counts label colours of no class.
    """
    from cvtool.formats import camvid

    root_dir, class_file = as_path(root, "root"), as_optional_path(class_dict, "class_dict")
    out_dir = _out_dir(out, "camvid")
    check_out_not_input(out_dir, {"root": root_dir, "class_dict": class_file})
    with quiet(not progress):
        prepared = camvid.prepare_camvid(
            root_dir,
            out_dir,
            class_dict=class_file,
            void=void,
            workers=workers,
            overwrite=overwrite,
        )
    unknown = prepared.summary["unknown_pixels"]
    warnings = [
        f"{unknown:,} pixels in {prepared.summary['images_with_unknown']} label images had "
        "colours of no class; they are ignore (255)"
    ]
    return _result(prepared, progress, warnings if unknown else [])


def prepare_voc(
    root: PathLike,
    out: PathLike | None = None,
    *,
    split: NumbersLike | None = None,
    seed: int = 0,
    workers: int | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> DatasetResult:
    """PASCAL VOC palette, index or RGB-coloured masks -> index masks (boundary 255 = ignore).

    Args:
        root: `VOCdevkit/VOC2012`-style folder, or `<n>_image`/`<n>_target` pairs.
        out: dataset directory to write (default: the first free `runs/prepare/voc`, ...).
        split: train, val, test fractions of a split stratified by the classes each image
            holds (default: the official `ImageSets/Segmentation` lists, else 0.7, 0.15,
            0.15).
        seed: seed of the split.
        workers: worker processes (default: all cores).
        overwrite: replace a non-empty `out`.
        progress: show progress bars, warnings and the class table on stderr.

    Returns:
        The dataset directory, its classes and images per split.
    """
    from cvtool.formats import voc

    fractions = None if split is None else as_fractions(split, 3, "split")
    root_dir, out_dir = as_path(root, "root"), _out_dir(out, "voc")
    check_out_not_input(out_dir, {"root": root_dir})
    with quiet(not progress):
        prepared = voc.prepare_voc(
            root_dir,
            out_dir,
            split=fractions,
            seed=seed,
            workers=workers,
            overwrite=overwrite,
        )
    return _result(prepared, progress)


def prepare_folder(
    root: PathLike,
    out: PathLike | None = None,
    *,
    val: float = 0.2,
    test: float = 0.0,
    seed: int = 0,
    workers: int | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> DatasetResult:
    """Image-folder classification set (`root/<class>/<image>`) -> stratified splits.

    Args:
        root: folder with one subfolder of images per class.
        out: dataset directory to write, with `splits/{train,val,test}.csv` (default: the
            first free `runs/prepare/folder`, ...).
        val: validation fraction per class.
        test: test fraction per class.
        seed: seed of the split.
        workers: worker processes (default: all cores).
        overwrite: replace a non-empty `out`.
        progress: show progress bars, warnings and the class table on stderr.

    Returns:
        The dataset directory; `summary` lists empty class folders and unreadable images.
    """
    from cvtool.formats import folders

    root_dir, out_dir = as_path(root, "root"), _out_dir(out, "folder")
    check_out_not_input(out_dir, {"root": root_dir})
    with quiet(not progress):
        prepared = folders.prepare_folder(
            root_dir,
            out_dir,
            val=val,
            test=test,
            seed=seed,
            workers=workers,
            overwrite=overwrite,
        )
    skipped = prepared.manifest.extra["skipped_unreadable"]
    warnings = [f"skipped {path}: {reason}" for path, reason in skipped.items()]
    if prepared.summary["empty_class_folders"]:
        names = ", ".join(prepared.summary["empty_class_folders"])
        warnings.append(f"folders without images (not classes): {names}")
    return _result(prepared, progress, warnings)


def dataset_stats(
    data: PathLike,
    out: PathLike | None = None,
    *,
    workers: int | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> StatsResult:
    """Class distribution per split (pixels or images per class): CSV and bar chart.

    Args:
        data: a prepared dataset directory.
        out: folder for `class_distribution.csv` and `.png` (default: `data/stats`), written
            as one artifact.
        workers: worker processes (default: all cores).
        overwrite: replace an existing non-empty `out`.
        progress: show progress bars and the table of counts and shares on stderr.

    Returns:
        The folder, both files and `counts[split][class]`.
    """
    from cvtool.core.artifacts import check_replaceable, staged_output_dir
    from cvtool.core.layout import dataset_parts
    from cvtool.formats.stats import class_distribution, write_distribution

    data_dir = as_path(data, "data")
    out_dir = as_optional_path(out, "out") or data_dir / "stats"
    check_out_not_input(out_dir, {"data": dataset_parts(data_dir)})
    check_replaceable(out_dir, overwrite)
    with quiet(not progress):
        dist = class_distribution(data_dir, workers)
        with staged_output_dir(out_dir, overwrite) as stage:
            csv_path, png_path = (out_dir / p.name for p in write_distribution(dist, stage))
        _print_distribution(data_dir, dist)
    return StatsResult(out_dir, csv_path, png_path, dist.task, dist.unit, dist.counts)
