"""Prepare datasets from Python: COCO, CamVid, VOC and image folders, and class statistics.

Each function writes a prepared dataset directory (`dataset.json`, `images/`, `masks/`,
`splits/`) atomically and returns a `DatasetResult`; it prints nothing unless `progress=True`.
"""

from __future__ import annotations

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
from cvtool.core.console import quiet

if TYPE_CHECKING:
    from cvtool.formats.layout import PreparedDataset


def _result(prepared: PreparedDataset) -> DatasetResult:
    manifest = prepared.manifest
    return DatasetResult(
        prepared.path, manifest.task, manifest.class_names, dict(manifest.splits), prepared.summary
    )


def prepare_coco(
    annotations: PathLike,
    images: PathLike,
    classes: NamesLike,
    out: PathLike,
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
        out: dataset directory to write.
        priority: overlap priority, highest first (default: the `classes` order).
        split: train, val, test fractions of the random split, `"0.7,0.15,0.15"` or a tuple.
        seed: seed of the random split.
        workers: worker processes (default: all cores).
        include_empty: keep images without any of the classes (all background).
        crowd: crowd regions: `ignore` (255), `class` (painted), or `skip` (drop the image).
        overwrite: replace a non-empty `out`.
        progress: show progress bars on stderr.

    Returns:
        The dataset directory, its classes and images per split.
    """
    from cvtool.formats import coco

    with quiet(not progress):
        prepared = coco.prepare_coco(
            as_path(annotations, "annotations"),
            as_path(images, "images"),
            as_names(classes, "classes"),
            as_path(out, "out"),
            priority=as_names(priority, "priority"),
            split=as_fractions(split, 3, "split"),
            seed=seed,
            workers=workers,
            include_empty=include_empty,
            crowd=crowd,
            overwrite=overwrite,
        )
    return _result(prepared)


def prepare_camvid(
    root: PathLike,
    out: PathLike,
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
        out: dataset directory to write.
        class_dict: `name,r,g,b` CSV (default: `root/class_dict.csv`).
        void: Void/Unlabelled pixels: `ignore` (255) or `class`.
        workers: worker processes (default: all cores).
        overwrite: replace a non-empty `out`.
        progress: show progress bars on stderr.

    Returns:
        The dataset directory; `summary["unknown_pixels"]` counts label colours of no class.
    """
    from cvtool.formats import camvid

    with quiet(not progress):
        prepared = camvid.prepare_camvid(
            as_path(root, "root"),
            as_path(out, "out"),
            class_dict=as_optional_path(class_dict, "class_dict"),
            void=void,
            workers=workers,
            overwrite=overwrite,
        )
    return _result(prepared)


def prepare_voc(
    root: PathLike,
    out: PathLike,
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
        out: dataset directory to write.
        split: train, val, test fractions of a random split (default: the official
            `ImageSets/Segmentation` lists, else 0.7, 0.15, 0.15).
        seed: seed of the random split.
        workers: worker processes (default: all cores).
        overwrite: replace a non-empty `out`.
        progress: show progress bars on stderr.

    Returns:
        The dataset directory, its classes and images per split.
    """
    from cvtool.formats import voc

    fractions = None if split is None else as_fractions(split, 3, "split")
    with quiet(not progress):
        prepared = voc.prepare_voc(
            as_path(root, "root"),
            as_path(out, "out"),
            split=fractions,
            seed=seed,
            workers=workers,
            overwrite=overwrite,
        )
    return _result(prepared)


def prepare_folder(
    root: PathLike,
    out: PathLike,
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
        out: dataset directory to write (`splits/{train,val,test}.csv`).
        val: validation fraction per class.
        test: test fraction per class.
        seed: seed of the split.
        workers: worker processes (default: all cores).
        overwrite: replace a non-empty `out`.
        progress: show progress bars on stderr.

    Returns:
        The dataset directory; `summary` lists empty class folders and unreadable images.
    """
    from cvtool.formats import folders

    with quiet(not progress):
        prepared = folders.prepare_folder(
            as_path(root, "root"),
            as_path(out, "out"),
            val=val,
            test=test,
            seed=seed,
            workers=workers,
            overwrite=overwrite,
        )
    return _result(prepared)


def dataset_stats(
    data: PathLike,
    out: PathLike | None = None,
    *,
    workers: int | None = None,
    progress: bool = False,
) -> StatsResult:
    """Class distribution per split (pixels or images per class): CSV and bar chart.

    Args:
        data: a prepared dataset directory.
        out: folder for `class_distribution.csv` and `.png` (default: `data/stats`).
        workers: worker processes (default: all cores).
        progress: show progress bars on stderr.

    Returns:
        The folder, both files and `counts[split][class]`.
    """
    from cvtool.formats.stats import class_distribution, write_distribution

    data_dir = as_path(data, "data")
    out_dir = as_optional_path(out, "out") or data_dir / "stats"
    with quiet(not progress):
        dist = class_distribution(data_dir, workers)
        csv_path, png_path = write_distribution(dist, out_dir)
    return StatsResult(out_dir, csv_path, png_path, dist.task, dist.unit, dist.counts)
