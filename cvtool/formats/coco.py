"""`prepare coco`: semantic masks from COCO instance annotations (polygons, RLE, crowd).

Mask values: 0 = background, 1..K = the requested classes in the order given, 255 = ignore.
Overlaps between classes are resolved by priority: the class listed first in the priority order
(default: the order of `classes`) wins. Crowd regions (`iscrowd=1`) are, by `crowd` mode,
`ignore` (255), `class` (painted like an instance), or `skip` (dropped). Precise instance pixels
always win over ignored crowd regions.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.artifacts import IGNORE_INDEX, read_json, staged_output_dir
from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.core.images import decoded_size
from cvtool.core.palette import class_colors, voc_classes
from cvtool.core.parallel import parallel_map
from cvtool.formats.cocoseg import Segmentation, check_segmentation
from cvtool.formats.layout import (
    PreparedDataset,
    check_unique_stems,
    pixel_counts_per_split,
    save_segmentation_dataset,
    write_sample,
)
from cvtool.formats.splits import split_by_classes

CROWD_MODES = ("ignore", "class", "skip")


@dataclass(frozen=True)
class CocoImageJob:
    """One image's work, plain and picklable: its instances in paint order."""

    file_name: str
    src: str
    height: int
    width: int
    instances: tuple[tuple[int, Segmentation], ...]  # (class id, segmentation), low priority first
    crowds: tuple[Segmentation, ...]  # crowd regions to mark ignore


@dataclass(frozen=True)
class CocoIndex:
    """The parts of an instances file that `prepare coco` needs, validated."""

    images: dict[int, dict[str, Any]]
    categories: dict[str, int]  # name -> category id
    annotations: list[dict[str, Any]]
    duplicates: dict[str, list[int]] = field(default_factory=dict)  # name -> its category ids


def load_coco(path: Path) -> CocoIndex:
    """Read and check an instances JSON; errors name the file and the offending entry."""
    data = read_json(path, "COCO annotations file")
    if not isinstance(data, dict):
        raise CvtoolError(f"{path} is not a COCO instances file: expected a JSON object")
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            raise CvtoolError(f"{path} is not a COCO instances file: no {key!r} list")
    try:
        images = {
            int(im["id"]): {
                "file_name": str(im["file_name"]),
                "height": int(im["height"]),
                "width": int(im["width"]),
            }
            for im in data["images"]
        }
        ids_by_name: dict[str, list[int]] = {}
        for c in data["categories"]:
            ids_by_name.setdefault(str(c["name"]), []).append(int(c["id"]))
        for ann in data["annotations"]:
            ann["image_id"], ann["category_id"] = int(ann["image_id"]), int(ann["category_id"])
    except (KeyError, TypeError, ValueError) as e:
        raise CvtoolError(f"{path}: malformed entry, missing or bad field {e}") from None
    categories = {name: ids[0] for name, ids in ids_by_name.items()}
    duplicates = {name: ids for name, ids in ids_by_name.items() if len(ids) > 1}
    return CocoIndex(images, categories, data["annotations"], duplicates)


def check_class_names(index: CocoIndex, classes: Sequence[str], path: Path) -> None:
    """Refuse requested classes that are not in the file, or that name two categories (one of
    them would silently lose its annotations)."""
    missing = [c for c in classes if c not in index.categories]
    if missing:
        raise CvtoolError(
            f"classes {missing} are not in {path}",
            f"available: {', '.join(sorted(index.categories))}",
            param="classes",
        )
    for name in classes:
        if name in index.duplicates:
            ids = " and ".join(map(str, index.duplicates[name]))
            raise CvtoolError(
                f"{path}: categories {ids} are both named {name!r}",
                "rename one of them in the file, or give both annotations one category id",
            )


def resolve_priority(classes: Sequence[str], priority: Sequence[str] | None) -> list[str]:
    """Highest priority first: the names in `priority`, then the other classes in given order."""
    priority = list(priority or [])
    unknown = [p for p in priority if p not in classes]
    if unknown:
        raise ParameterError(
            f"class priority names {unknown} that are not among the classes {classes}", "priority"
        )
    if len(set(priority)) != len(priority):
        raise ParameterError(f"class priority lists a class twice: {priority}", "priority")
    return priority + [c for c in classes if c not in priority]


def _to_rle(seg: Segmentation, height: int, width: int) -> dict[str, Any]:
    from pycocotools import mask as mask_utils

    if isinstance(seg, list):
        return mask_utils.merge(mask_utils.frPyObjects(seg, height, width))
    if isinstance(seg["counts"], list):  # uncompressed RLE (crowd regions)
        return mask_utils.frPyObjects(seg, height, width)
    counts = seg["counts"]
    return {
        "size": [height, width],
        "counts": counts.encode() if isinstance(counts, str) else counts,
    }


def _decode_union(segs: Sequence[Segmentation], height: int, width: int) -> np.ndarray:
    from pycocotools import mask as mask_utils

    rles = [_to_rle(s, height, width) for s in segs]
    return mask_utils.decode(mask_utils.merge(rles) if len(rles) > 1 else rles[0]).astype(bool)


def render_mask(job: CocoImageJob) -> np.ndarray:
    """The `(H, W)` uint8 semantic mask of one image: crowd ignore first, then classes from
    lowest to highest priority, so higher priority overwrites."""
    mask = np.zeros((job.height, job.width), dtype=np.uint8)
    if job.crowds:
        mask[_decode_union(job.crowds, job.height, job.width)] = IGNORE_INDEX
    by_class: dict[int, list[Segmentation]] = {}
    for class_id, seg in job.instances:  # dicts keep paint order
        by_class.setdefault(class_id, []).append(seg)
    for class_id, segs in by_class.items():
        mask[_decode_union(segs, job.height, job.width)] = class_id
    return mask


def _prepare_image(job: CocoImageJob, out_dir: str, colors: np.ndarray) -> np.ndarray:
    size = decoded_size(job.src)
    if size != (job.width, job.height):
        raise CvtoolError(
            f"image {job.src} is {size[0]}x{size[1]} but the annotations say "
            f"{job.width}x{job.height}"
        )
    return write_sample(Path(out_dir), Path(job.src), job.file_name, render_mask(job), colors)


def build_jobs(
    index: CocoIndex,
    annotations_path: Path,
    images_dir: Path,
    class_ids: dict[int, int],
    paint_rank: dict[int, int],
    crowd: str,
    include_empty: bool,
) -> tuple[list[CocoImageJob], Counter[str]]:
    """Group the selected annotations per image in paint order; count what was seen."""
    per_image: dict[int, list[tuple[int, int, Any]]] = {}
    crowds: dict[int, list[Any]] = {}
    stats: Counter[str] = Counter()
    for ann in index.annotations:
        class_id = class_ids.get(ann["category_id"])
        if class_id is None:
            continue
        image = index.images.get(ann["image_id"])
        where = f"{annotations_path}: annotation {ann.get('id', '?')} (image {ann['image_id']})"
        if image is None:
            raise CvtoolError(f"{where} refers to image id {ann['image_id']}, not in 'images'")
        if "segmentation" not in ann:
            raise CvtoolError(f"{where} has no segmentation (boxes-only annotations)")
        seg = check_segmentation(ann["segmentation"], image["height"], image["width"], where)
        per_image.setdefault(ann["image_id"], [])
        if seg is None:
            stats["degenerate_polygons_dropped"] += 1
        elif ann.get("iscrowd", 0):
            stats["crowd_annotations"] += 1
            if crowd == "ignore":
                crowds.setdefault(ann["image_id"], []).append(seg)
            elif crowd == "class":
                per_image[ann["image_id"]].append((paint_rank[class_id], class_id, seg))
        else:
            stats["instances"] += 1
            per_image[ann["image_id"]].append((paint_rank[class_id], class_id, seg))
    jobs = []
    for image_id, image in sorted(index.images.items()):
        if image_id not in per_image and not include_empty:
            stats["images_without_classes_skipped"] += 1
            continue
        instances = sorted(per_image.get(image_id, []), key=lambda t: t[0])
        jobs.append(
            CocoImageJob(
                file_name=Path(image["file_name"]).name,
                src=str(images_dir / image["file_name"]),
                height=image["height"],
                width=image["width"],
                instances=tuple((class_id, seg) for _, class_id, seg in instances),
                crowds=tuple(crowds.get(image_id, [])),
            )
        )
    return jobs, stats


def prepare_coco(
    annotations: Path,
    images: Path,
    classes: Sequence[str],
    out: Path,
    *,
    priority: Sequence[str] | None = None,
    split: Sequence[float] = (0.7, 0.15, 0.15),
    seed: int = 0,
    workers: int | None = None,
    include_empty: bool = False,
    crowd: str = "ignore",
    overwrite: bool = False,
) -> PreparedDataset:
    """Prepare a segmentation directory at `out` from a COCO instances file.

    >>> prepare_coco(Path("instances_val2017.json"), Path("val2017"),
    ...              ["person", "car"], Path("data/coco2"))  # doctest: +SKIP
    """
    annotations, images, out = Path(annotations), Path(images), Path(out)
    if crowd not in CROWD_MODES:
        raise ParameterError(
            f"unknown crowd mode {crowd!r}; choose one of {', '.join(CROWD_MODES)}", "crowd"
        )
    if not classes or len(set(classes)) != len(classes):
        raise ParameterError(f"classes must be distinct names, got {list(classes)}", "classes")
    if not images.is_dir():
        raise CvtoolError(f"images directory not found: {images}")
    index = load_coco(annotations)
    check_class_names(index, classes, annotations)
    order = resolve_priority(classes, priority)
    class_ids = {index.categories[name]: i + 1 for i, name in enumerate(classes)}
    paint_rank = {classes.index(name) + 1: -rank for rank, name in enumerate(order)}
    jobs, stats = build_jobs(
        index, annotations, images, class_ids, paint_rank, crowd, include_empty
    )
    if not jobs:
        raise CvtoolError(f"no image in {annotations} has an annotation of {list(classes)}")
    absent = [j.src for j in jobs if not Path(j.src).is_file()]
    if absent:
        raise CvtoolError(
            f"{len(absent)} of {len(jobs)} images are missing, e.g. {absent[0]}",
            "check that `images` is the folder the annotations' file_name entries are in",
            param="images",
        )
    check_unique_stems((j.file_name for j in jobs), str(annotations))

    class_infos = voc_classes(["background", *classes])
    colors = class_colors(class_infos)
    with staged_output_dir(out, overwrite) as staging:
        work = functools.partial(_prepare_image, out_dir=str(staging), colors=colors)
        counts = dict(
            zip(
                (j.file_name for j in jobs),
                parallel_map(work, jobs, workers, "coco masks"),
                strict=True,
            )
        )
        splits = split_by_classes(counts, len(class_infos), split, seed)
        names = [c.name for c in class_infos]
        manifest = save_segmentation_dataset(
            staging,
            class_infos,
            splits,
            source={
                "format": "coco",
                "annotations": str(annotations.resolve()),
                "images": str(images.resolve()),
                "category_ids": {name: index.categories[name] for name in classes},
            },
            extra={
                "priority": order,
                "crowd": crowd,
                "include_empty": include_empty,
                "seed": seed,
                "split_fractions": list(split),
                "images_in_file": len(index.images),
                **{k: int(v) for k, v in sorted(stats.items())},
                "pixel_counts": pixel_counts_per_split(splits, counts, names),
            },
        )
    summary = {
        "task": "segmentation",
        "classes": names,
        "splits": manifest.splits,
        "images": len(jobs),
        **{k: int(v) for k, v in sorted(stats.items())},
    }
    return PreparedDataset(out, manifest, summary)
