"""`prepare camvid`: CamVid in the Kaggle layout (RGB labels) or the SegNet layout (indices).

Kaggle/32-class layout: `<split>/<stem>.png` images, `<split>_labels/<stem>_L.png` RGB labels,
`class_dict.csv` (`name,r,g,b`, stray spaces tolerated). SegNet layout: `<split>/` images,
`<split>annot/` index PNGs with the same names (optionally listed in `<split>.txt`), classes in
the 11 + Void order below unless a `class_dict.csv` is present. The void class (named Void or
Unlabelled) becomes ignore (255) or, with `void="class"`, a class of its own. Colours or indices
that match no class become ignore and are counted.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from cvtool.core.artifacts import IGNORE_INDEX, RGB, SPLITS, ClassInfo, staged_output_dir
from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.core.images import is_image_file
from cvtool.core.palette import class_colors
from cvtool.formats.labels import UNKNOWN, LabelDecoder, Pair, write_pairs
from cvtool.formats.layout import (
    PreparedDataset,
    check_unique_stems,
    pixel_counts_per_split,
    save_segmentation_dataset,
)

VOID_NAMES = frozenset({"void", "unlabelled", "unlabeled"})
VOID_MODES = ("ignore", "class")
# The 11 CamVid classes of SegNet's index annotations, in index order (11 = Void).
SEGNET_CLASSES: tuple[tuple[str, RGB], ...] = (
    ("Sky", (128, 128, 128)),
    ("Building", (128, 0, 0)),
    ("Column_Pole", (192, 192, 128)),
    ("Road", (128, 64, 128)),
    ("Sidewalk", (0, 0, 192)),
    ("Tree", (128, 128, 0)),
    ("SignSymbol", (192, 128, 128)),
    ("Fence", (64, 64, 128)),
    ("Car", (64, 0, 128)),
    ("Pedestrian", (64, 64, 0)),
    ("Bicyclist", (0, 128, 192)),
    ("Void", (0, 0, 0)),
)


def read_class_dict(path: Path) -> list[tuple[str, RGB]]:
    """`name,r,g,b` rows in file order; spaces around fields are ignored."""
    if not path.is_file():
        raise CvtoolError(f"class dictionary not found: {path}")
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = [[cell.strip() for cell in row] for row in csv.reader(f) if any(row)]
    if not rows or [h.lower() for h in rows[0]] != ["name", "r", "g", "b"]:
        raise CvtoolError(f"{path}: expected a header 'name,r,g,b', got {rows[:1]}")
    classes: list[tuple[str, RGB]] = []
    for line, row in enumerate(rows[1:], start=2):
        try:
            name, r, g, b = row
            rgb = (int(r), int(g), int(b))
        except ValueError:
            raise CvtoolError(f"{path}, line {line}: expected name,r,g,b, got {row}") from None
        if not name or not all(0 <= c <= 255 for c in rgb):
            raise CvtoolError(f"{path}, line {line}: bad class {row}")
        classes.append((name, rgb))
    names = [n for n, _ in classes]
    if len(set(names)) != len(names):
        raise CvtoolError(f"{path}: duplicate class names")
    if len({c for _, c in classes}) != len(classes):
        raise CvtoolError(f"{path}: two classes share a colour")
    return classes


@dataclass(frozen=True)
class CamvidLayout:
    name: str  # "kaggle" or "segnet"
    pairs: dict[str, list[Pair]]  # split -> pairs


def _pair_paths(images: Path, labels: Path, label_name, where: Path) -> list[Pair]:
    pairs = []
    for image in sorted(p for p in images.iterdir() if is_image_file(p)):
        label = labels / label_name(image)
        if not label.is_file():
            raise CvtoolError(f"{where}: image {image} has no label file {label}")
        pairs.append(Pair(str(image), str(label), image.name))
    return pairs


def _segnet_list(root: Path, split: str, listing: Path) -> list[Pair]:
    """Lines `<path>/<split>/x.png <path>/<split>annot/x.png`, resolved under `root`."""
    pairs = []
    for line_no, line in enumerate(listing.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise CvtoolError(f"{listing}, line {line_no}: expected 'image label', got {line!r}")
        image, label = (root / Path(p).parent.name / Path(p).name for p in parts)
        for path in (image, label):
            if not path.is_file():
                raise CvtoolError(f"{listing}, line {line_no}: file not found: {path}")
        pairs.append(Pair(str(image), str(label), image.name))
    return pairs


def find_layout(root: Path) -> CamvidLayout:
    """Detect the Kaggle or SegNet layout and list the image/label pairs of each split."""
    if not root.is_dir():
        raise CvtoolError(f"CamVid root not found: {root}")
    if (root / "train_labels").is_dir():
        pairs = {
            s: _pair_paths(root / s, root / f"{s}_labels", lambda p: f"{p.stem}_L.png", root)
            for s in SPLITS
            if (root / s).is_dir() and (root / f"{s}_labels").is_dir()
        }
        return CamvidLayout("kaggle", pairs)
    if (root / "trainannot").is_dir():
        pairs = {}
        for s in SPLITS:
            if (root / f"{s}.txt").is_file():
                pairs[s] = _segnet_list(root, s, root / f"{s}.txt")
            elif (root / s).is_dir() and (root / f"{s}annot").is_dir():
                pairs[s] = _pair_paths(root / s, root / f"{s}annot", lambda p: p.name, root)
        return CamvidLayout("segnet", pairs)
    raise CvtoolError(
        f"{root} is not a CamVid folder: expected train/ with train_labels/ (Kaggle layout) "
        "or train/ with trainannot/ (SegNet layout)"
    )


def build_decoder(
    source_classes: list[tuple[str, RGB]], void: str
) -> tuple[list[ClassInfo], LabelDecoder, RGB | None]:
    """Classes of the prepared set, the decoder for labels, and the void colour if ignored.

    Source class `i` is both colour `source_classes[i][1]` and index `i` in label images.
    """
    if void not in VOID_MODES:
        raise ParameterError(
            f"unknown void mode {void!r}; choose one of {', '.join(VOID_MODES)}", "void"
        )
    classes: list[ClassInfo] = []
    values: list[int] = []
    void_color: RGB | None = None
    for name, color in source_classes:
        if void == "ignore" and name.lower() in VOID_NAMES:
            values.append(IGNORE_INDEX)
            void_color = color
        else:
            values.append(len(classes))
            classes.append(ClassInfo(len(classes), name, color))
    index_map = [UNKNOWN] * 256
    index_map[: len(values)] = values
    index_map[IGNORE_INDEX] = IGNORE_INDEX
    decoder = LabelDecoder(tuple(c for _, c in source_classes), tuple(values), tuple(index_map))
    return classes, decoder, void_color


def prepare_camvid(
    root: Path,
    out: Path,
    *,
    class_dict: Path | None = None,
    void: str = "ignore",
    workers: int | None = None,
    overwrite: bool = False,
) -> PreparedDataset:
    """Prepare a segmentation directory at `out` from a CamVid folder; splits as given there.

    >>> prepare_camvid(Path("CamVid"), Path("data/camvid"))  # doctest: +SKIP
    """
    root, out = Path(root), Path(out)
    layout = find_layout(root)
    if class_dict is None and (root / "class_dict.csv").is_file():
        class_dict = root / "class_dict.csv"
    if class_dict is None and layout.name == "kaggle":
        raise CvtoolError(
            f"{root}: no class_dict.csv",
            "give a `class_dict` CSV of name,r,g,b rows",
            param="class_dict",
        )
    source_classes = read_class_dict(class_dict) if class_dict else list(SEGNET_CLASSES)
    classes, decoder, void_color = build_decoder(source_classes, void)
    pairs = [p for split in SPLITS for p in layout.pairs.get(split, [])]
    if not pairs:
        raise CvtoolError(f"{root}: no images found in {', '.join(SPLITS)}")
    check_unique_stems((p.name for p in pairs), str(root))
    splits = {s: [p.name for p in layout.pairs.get(s, [])] for s in SPLITS}
    colors = class_colors(classes)
    ignore_color = void_color or (255, 255, 255)
    with staged_output_dir(out, overwrite) as staging:
        stats = write_pairs(staging, pairs, decoder, colors, ignore_color, workers, "camvid")
        manifest = save_segmentation_dataset(
            staging,
            classes,
            splits,
            source={
                "format": "camvid",
                "layout": layout.name,
                "root": str(root.resolve()),
                "class_dict": str(class_dict.resolve()) if class_dict else None,
            },
            extra={
                "void": void,
                "void_color": list(void_color) if void_color else None,
                **stats.report(),
                "pixel_counts": pixel_counts_per_split(
                    splits, stats.counts, [c.name for c in classes]
                ),
            },
        )
    summary = {
        "task": "segmentation",
        "layout": layout.name,
        "classes": [c.name for c in classes],
        "splits": manifest.splits,
        **stats.report(),
    }
    return PreparedDataset(out, manifest, summary)
