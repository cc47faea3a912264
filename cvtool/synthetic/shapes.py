"""A small deterministic COCO-format dataset of shapes, for the demo and for tests.

Each image has a textured background, overlapping instances of circles, squares, triangles and
stars (polygons, some stored as compressed RLE), sometimes a crowd region (uncompressed RLE,
`iscrowd=1`) and sometimes nothing at all. Instances are painted in reverse `SHAPES` order, so
preparing with `--classes` in `SHAPES` order (the default priority) reproduces exactly what is
visible: `synthesize_shapes` returns that visible label map as the ground truth.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from cvtool.core.artifacts import IGNORE_INDEX, atomic_path, atomic_write_json

SHAPES = ("circle", "square", "triangle", "star")
CATEGORY_IDS = {"circle": 1, "square": 3, "triangle": 5, "star": 8}  # gaps, like COCO's ids
BASE_COLORS = np.array([[220, 60, 50], [60, 180, 70], [60, 90, 220], [235, 200, 40]], float)


@dataclass
class ShapeImage:
    """One generated image, its COCO annotations (no ids yet) and its visible label map."""

    image: np.ndarray  # (H, W, 3) uint8
    annotations: list[dict[str, Any]]
    truth: np.ndarray  # (H, W) uint8: 0 background, 1.. = SHAPES order, 255 = crowd


def _outline(shape: str, cx: float, cy: float, r: float, angle: float) -> np.ndarray:
    """`(N, 2)` polygon vertices of a shape of radius `r`."""
    if shape == "circle":
        t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        radii = np.full_like(t, r)
    elif shape == "square":
        t = angle + np.pi / 4 + np.arange(4) * np.pi / 2
        radii = np.full_like(t, r)
    elif shape == "triangle":
        t = angle + np.arange(3) * 2 * np.pi / 3
        radii = np.full_like(t, r)
    else:  # star
        t = angle + np.arange(10) * np.pi / 5
        radii = np.where(np.arange(10) % 2 == 0, r, 0.45 * r)
    return np.stack([cx + radii * np.cos(t), cy + radii * np.sin(t)], axis=1)


def _rasterize(polygon: np.ndarray, size: int) -> np.ndarray:
    from pycocotools import mask as mask_utils

    rle = mask_utils.frPyObjects([polygon.ravel().tolist()], size, size)
    return mask_utils.decode(rle)[:, :, 0].astype(bool)


def _uncompressed_rle(mask: np.ndarray) -> dict[str, Any]:
    """COCO's uncompressed RLE (column-major run lengths, starting with a run of zeros)."""
    flat = mask.ravel(order="F").astype(np.int8)
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(flat)) + 1, [flat.size]])
    counts = np.diff(bounds).tolist()
    return {"size": list(mask.shape), "counts": ([0] if flat[0] else []) + counts}


def _compressed_rle(mask: np.ndarray) -> dict[str, Any]:
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": list(mask.shape), "counts": rle["counts"].decode("ascii")}


def _texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """Background: a colour gradient, oriented stripes and noise."""
    y, x = np.mgrid[0:size, 0:size] / size
    base = rng.uniform(40, 200, 3)
    theta, freq = rng.uniform(0, np.pi), rng.uniform(4, 14)
    stripes = np.sin(2 * np.pi * freq * (x * np.cos(theta) + y * np.sin(theta)))
    gradient = (x - 0.5) * rng.uniform(-60, 60) + (y - 0.5) * rng.uniform(-60, 60)
    noise = rng.normal(0, 12, (size, size, 3))
    img = base + (gradient + 25 * stripes)[..., None] + noise
    return np.clip(img, 0, 255)


def _bbox(mask: np.ndarray) -> list[float]:
    ys, xs = np.nonzero(mask)
    return [float(xs.min()), float(ys.min()), float(np.ptp(xs) + 1), float(np.ptp(ys) + 1)]


def _one_image(rng: np.random.Generator, size: int, empty: bool, crowd: bool) -> ShapeImage:
    img = _texture(rng, size)
    truth = np.zeros((size, size), dtype=np.uint8)
    annotations: list[dict[str, Any]] = []
    if crowd:  # a cluster of small shapes of one class, annotated as one crowd region
        cls = int(rng.integers(len(SHAPES)))
        cx, cy = rng.uniform(0.25, 0.75, 2) * size
        region = np.zeros((size, size), dtype=bool)
        for _ in range(int(rng.integers(4, 8))):
            dx, dy = rng.normal(0, size / 12, 2)
            poly = _outline(SHAPES[cls], cx + dx, cy + dy, size / 22, rng.uniform(0, np.pi))
            region |= _rasterize(poly, size)
        img[region] = BASE_COLORS[cls] * 0.8 + rng.normal(0, 10, (int(region.sum()), 3))
        truth[region] = IGNORE_INDEX
        annotations.append(
            {
                "category": SHAPES[cls],
                "segmentation": _uncompressed_rle(region),
                "iscrowd": 1,
                "mask": region,
            }
        )
    instances = []
    for _ in range(0 if empty else int(rng.integers(1, 6))):
        cls = int(rng.integers(len(SHAPES)))
        if instances and rng.random() < 0.5:  # close to the previous one: overlap
            prev = instances[-1]
            cx, cy = np.array(prev[1:3]) + rng.normal(0, prev[3] * 0.7, 2)
        else:
            cx, cy = rng.uniform(0.15, 0.85, 2) * size
        r = rng.uniform(0.08, 0.22) * size
        instances.append((cls, float(cx), float(cy), float(r), float(rng.uniform(0, np.pi))))
    # Lowest priority (last in SHAPES) first, so higher-priority shapes end up on top.
    for cls, cx, cy, r, angle in sorted(instances, key=lambda t: -t[0]):
        poly = _outline(SHAPES[cls], cx, cy, r, angle).round(2)
        mask = _rasterize(poly, size)
        if not mask.any():
            continue
        shade = BASE_COLORS[cls] + rng.uniform(-30, 30, 3)
        img[mask] = shade + rng.normal(0, 8, (int(mask.sum()), 3))
        truth[mask] = cls + 1
        as_rle = rng.random() < 0.25
        segmentation = _compressed_rle(mask) if as_rle else [poly.ravel().tolist()]
        annotations.append(
            {"category": SHAPES[cls], "segmentation": segmentation, "iscrowd": 0, "mask": mask}
        )
    for ann in annotations:
        mask = ann.pop("mask")
        ann["area"], ann["bbox"] = float(mask.sum()), _bbox(mask)
    image = np.clip(img, 0, 255).astype(np.uint8)
    return ShapeImage(image, annotations, truth)


def synthesize_shapes(num_images: int = 48, size: int = 128, seed: int = 0) -> list[ShapeImage]:
    """Generate the images in memory; every 12th image (from the 6th) is empty, every 8th (from
    the 4th) has a crowd region. Same seed, same data."""
    rng = np.random.default_rng(seed)
    return [_one_image(rng, size, empty=i % 12 == 5, crowd=i % 8 == 3) for i in range(num_images)]


def write_coco(samples: list[ShapeImage], out_dir: Path) -> tuple[Path, Path]:
    """Write `images/shapes_NNNN.png` and `annotations.json` (COCO instances format)."""
    images_dir = out_dir / "images"
    images, annotations = [], []
    for i, sample in enumerate(samples):
        name = f"shapes_{i:04d}.png"
        with atomic_path(images_dir / name) as tmp:
            Image.fromarray(sample.image).save(tmp, format="PNG")
        h, w = sample.truth.shape
        images.append({"id": i + 1, "file_name": name, "height": h, "width": w})
        for ann in sample.annotations:
            entry = {k: v for k, v in ann.items() if k != "category"}
            entry.update(
                id=len(annotations) + 1, image_id=i + 1, category_id=CATEGORY_IDS[ann["category"]]
            )
            annotations.append(entry)
    categories = [{"id": CATEGORY_IDS[s], "name": s, "supercategory": "shape"} for s in SHAPES]
    annotations_path = out_dir / "annotations.json"
    atomic_write_json(
        annotations_path,
        {"images": images, "annotations": annotations, "categories": categories},
    )
    return annotations_path, images_dir


def make_coco_shapes(
    out_dir: str | Path, num_images: int = 48, size: int = 128, seed: int = 0
) -> tuple[Path, Path]:
    """Write the synthetic shapes dataset in COCO format; returns (annotations JSON, images dir).

    >>> ann, imgs = make_coco_shapes("raw/shapes")  # doctest: +SKIP
    """
    return write_coco(synthesize_shapes(num_images, size, seed), Path(out_dir))


def prepare_demo_dataset(
    work_dir: str | Path,
    *,
    num_images: int = 48,
    size: int = 128,
    seed: int = 0,
    workers: int | None = None,
    overwrite: bool = False,
) -> tuple[Path, dict[str, Any]]:
    """Generate the shapes in `work_dir/raw_shapes` and prepare them (all four classes, in
    `SHAPES` order) into `work_dir/shapes`; returns that dataset dir and a summary."""
    from cvtool.formats.coco import prepare_coco

    work_dir = Path(work_dir)
    start = time.perf_counter()
    annotations, images = make_coco_shapes(work_dir / "raw_shapes", num_images, size, seed)
    generated = time.perf_counter() - start
    result = prepare_coco(
        annotations,
        images,
        list(SHAPES),
        work_dir / "shapes",
        seed=seed,
        workers=workers,
        include_empty=True,
        overwrite=overwrite,
    )
    summary = {
        **result.summary,
        "raw_annotations": str(annotations),
        "generate_seconds": round(generated, 3),
        "prepare_seconds": round(time.perf_counter() - start - generated, 3),
    }
    return result.path, summary


def draw_shape(rng: np.random.Generator, shape: str, size: int) -> np.ndarray:
    """One `(size, size, 3)` uint8 image with a single shape of class `shape` on noise."""
    from PIL import Image, ImageDraw

    background = rng.uniform(60, 190, 3) + rng.normal(0, 14, (size, size, 3))
    image = Image.fromarray(np.clip(background, 0, 255).astype(np.uint8))
    r = rng.uniform(0.22, 0.38) * size
    cx, cy = rng.uniform(r, size - r, 2)
    color = np.clip(BASE_COLORS[SHAPES.index(shape)] + rng.uniform(-35, 35, 3), 0, 255)
    outline = _outline(shape, cx, cy, r, rng.uniform(0, np.pi))
    ImageDraw.Draw(image).polygon(
        [tuple(v) for v in outline.tolist()], fill=tuple(int(c) for c in color)
    )
    return np.asarray(image)


def write_shape_folder(root: Path, per_class: int = 24, size: int = 32, seed: int = 0) -> Path:
    """An image-folder classification set `root/<shape>/<n>.png` (same seed, same images)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for shape in SHAPES:
        (root / shape).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(draw_shape(rng, shape, size)).save(root / shape / f"{i:03d}.png")
    return root
