"""`prepare voc`: PASCAL VOC style segmentation sets, as index masks.

Accepted layouts under `root`:
- devkit: `JPEGImages/` + `SegmentationClass/` (palette or greyscale index PNGs, or RGB masks in
  the VOC colour map), splits from `ImageSets/Segmentation/{train,val,test}.txt` when present,
  classes from `class_names.txt` when present (labelme exports), else the 21 VOC classes;
- pairs: `<n>_image.<ext>` next to `<n>_target.png` (RGB or index masks), split by
  fractions (stratified by the classes each image holds).
Value 255 (colour 224,224,192: the object boundaries) is ignore; other values or colours that
match no class become ignore too and are counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cvtool.core.artifacts import IGNORE_INDEX, RGB, SPLITS, staged_output_dir
from cvtool.core.errors import CvtoolError
from cvtool.core.images import is_image_file
from cvtool.core.outputs import visible
from cvtool.core.palette import class_colors, voc_classes, voc_colors
from cvtool.formats.labels import UNKNOWN, LabelDecoder, Pair, write_pairs
from cvtool.formats.layout import (
    PreparedDataset,
    check_unique_stems,
    pixel_counts_per_split,
    save_segmentation_dataset,
)
from cvtool.formats.splits import split_by_classes

VOC_CLASSES = (
    "background",
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
)
BOUNDARY_COLOR: RGB = voc_colors(256)[IGNORE_INDEX]  # (224, 224, 192)


@dataclass(frozen=True)
class VocLayout:
    name: str  # "devkit" or "pairs"
    pairs: list[Pair]
    official_splits: dict[str, list[str]] | None  # split -> image file names
    class_names: tuple[str, ...]


def read_class_names(path: Path) -> tuple[str, ...]:
    """One name per line; labelme's `_background_` is called `background`."""
    names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    names = ["background" if n == "_background_" else n for n in names]
    if not names or len(set(names)) != len(names) or len(names) >= IGNORE_INDEX:
        raise CvtoolError(f"{path}: expected 1-254 distinct class names, one per line")
    return tuple(names)


def _image_for(stem: str, folder: Path) -> Path:
    for ext in (".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG"):
        if (folder / f"{stem}{ext}").is_file():
            return folder / f"{stem}{ext}"
    raise CvtoolError(f"mask {stem} has no image in {folder}")


def _devkit(root: Path) -> VocLayout:
    class_file = root / "class_names.txt"
    classes = read_class_names(class_file) if class_file.is_file() else VOC_CLASSES
    masks_dir, images_dir = root / "SegmentationClass", root / "JPEGImages"
    lists = root / "ImageSets" / "Segmentation"
    official: dict[str, list[str]] | None = None
    if lists.is_dir() and any((lists / f"{s}.txt").is_file() for s in SPLITS):
        official = {
            s: [line.strip() for line in (lists / f"{s}.txt").read_text().split() if line.strip()]
            for s in SPLITS
            if (lists / f"{s}.txt").is_file()
        }
        stems = sorted({stem for ids in official.values() for stem in ids})
    else:
        stems = sorted(p.stem for p in visible(masks_dir) if p.suffix.lower() == ".png")
    pairs = []
    for stem in stems:
        mask = masks_dir / f"{stem}.png"
        if not mask.is_file():
            raise CvtoolError(f"{root}: listed image {stem} has no mask {mask}")
        image = _image_for(stem, images_dir)
        pairs.append(Pair(str(image), str(mask), image.name))
    names = {Path(p.label).stem: p.name for p in pairs}
    splits = {s: sorted(names[i] for i in ids) for s, ids in official.items()} if official else None
    return VocLayout("devkit", pairs, splits, classes)


def _pairs(root: Path) -> VocLayout:
    pairs = []
    for target in visible(root, "*_target.png"):
        prefix = target.name[: -len("_target.png")]
        images = [p for p in root.glob(f"{prefix}_image.*") if is_image_file(p)]
        if not images:
            raise CvtoolError(f"mask {target} has no image {prefix}_image.* beside it")
        pairs.append(Pair(str(images[0]), str(target), images[0].name))
    return VocLayout("pairs", pairs, None, VOC_CLASSES)


def find_layout(root: Path) -> VocLayout:
    if not root.is_dir():
        raise CvtoolError(f"VOC root not found: {root}")
    if (root / "SegmentationClass").is_dir() and (root / "JPEGImages").is_dir():
        return _devkit(root)
    if visible(root, "*_target.png"):
        return _pairs(root)
    raise CvtoolError(
        f"{root} is not a VOC folder: expected JPEGImages/ + SegmentationClass/ (VOCdevkit/VOC2012)"
        " or <n>_image.* + <n>_target.png pairs"
    )


def voc_decoder(num_classes: int) -> LabelDecoder:
    """Indices 0..K-1 and the VOC colour map's first K colours are classes; 255 is ignore."""
    colors = voc_colors(num_classes)
    index_map = list(range(num_classes)) + [UNKNOWN] * (256 - num_classes)
    index_map[IGNORE_INDEX] = IGNORE_INDEX
    return LabelDecoder(
        (*colors, BOUNDARY_COLOR),
        (*range(num_classes), IGNORE_INDEX),
        tuple(index_map),
    )


def prepare_voc(
    root: Path,
    out: Path,
    *,
    split: Sequence[float] | None = None,
    seed: int = 0,
    workers: int | None = None,
    overwrite: bool = False,
) -> PreparedDataset:
    """Prepare a segmentation directory at `out` from a VOC-style folder.

    Official splits are kept unless `split` fractions are given (or there are none: then
    0.7/0.15/0.15), which split the images by `seed`, stratified by the classes they hold.

    >>> prepare_voc(Path("VOCdevkit/VOC2012"), Path("data/voc"))  # doctest: +SKIP
    """
    root, out = Path(root), Path(out)
    layout = find_layout(root)
    if not layout.pairs:
        raise CvtoolError(f"{root}: no images with masks found")
    check_unique_stems((p.name for p in layout.pairs), str(root))
    official = layout.official_splits if split is None else None
    fractions = split or (0.7, 0.15, 0.15)
    split_source = (
        "official" if official is not None else f"stratified {','.join(map(str, fractions))}"
    )
    k = len(layout.class_names)
    classes = voc_classes(layout.class_names)
    colors = class_colors(classes)
    with staged_output_dir(out, overwrite) as staging:
        stats = write_pairs(
            staging, layout.pairs, voc_decoder(k), colors, BOUNDARY_COLOR, workers, "voc"
        )
        if official is not None:
            splits = {s: official.get(s, []) for s in SPLITS}
        else:
            splits = split_by_classes(stats.counts, k, fractions, seed)
            split_source += f" seed {seed}"
        manifest = save_segmentation_dataset(
            staging,
            classes,
            splits,
            source={"format": "voc", "layout": layout.name, "root": str(root.resolve())},
            extra={
                "splits_from": split_source,
                **stats.report(),
                "pixel_counts": pixel_counts_per_split(splits, stats.counts, layout.class_names),
            },
        )
    summary = {
        "task": "segmentation",
        "layout": layout.name,
        "classes": list(layout.class_names),
        "splits": manifest.splits,
        "splits_from": split_source,
        **stats.report(),
    }
    return PreparedDataset(out, manifest, summary)
