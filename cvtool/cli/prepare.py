"""`cvtool prepare ...`: turn raw datasets into prepared dataset directories."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cvtool.cli.common import (
    CommandResult,
    out_option,
    overwrite_option,
    seed_option,
    stage_command,
    workers_option,
)
from cvtool.core.console import console, literal, warn

if TYPE_CHECKING:
    from cvtool.formats.layout import PreparedDataset

app = typer.Typer(
    help="Turn raw datasets (COCO, CamVid, VOC, image folders) into prepared dataset "
    "directories.\n\nExample: cvtool prepare camvid --root CamVid --out data/camvid",
    no_args_is_help=True,
)

STAGE = "prepare"
OUT_HELP = "Output dataset directory, built atomically (default: runs/prepare/KIND, numbered)."
SEED_HELP = "Seed of the random split."


def _out_dir(out: Path | None, kind: str) -> Path:
    """`--out`, else the next free `runs/prepare/<kind>` directory."""
    from cvtool.core.rundirs import next_run_dir

    return out or next_run_dir(STAGE, kind)


def _split_option(default: str | None) -> typer.models.OptionInfo:
    return typer.Option(
        default, "--split", help="train,val,test fractions of the random split (sum to 1)."
    )


def _report(result: PreparedDataset) -> CommandResult:
    """Print the class table of a prepared dataset on stderr; return the stdout contract."""
    from rich.table import Table

    manifest = result.manifest
    table = Table(title=literal(f"{result.path} ({manifest.task})"))
    table.add_column("id", justify="right", overflow="fold")
    table.add_column("class", overflow="fold")
    splits = [s for s, n in manifest.splits.items() if n]
    pixels = manifest.extra.get("pixel_counts")
    for split in splits:
        table.add_column(f"{split} px" if pixels else split, justify="right", overflow="fold")
    counts = manifest.extra.get("images_per_class") or {}
    for c in manifest.classes:
        source = pixels if pixels else counts
        cells = (f"{source[s].get(c.name, 0):,}" for s in splits)
        table.add_row(str(c.id), literal(c.name), *cells)
    if pixels:
        table.add_row("", "ignore (255)", *(f"{pixels[s]['ignore']:,}" for s in splits))
    table.add_row("", "images", *(str(manifest.splits[s]) for s in splits), style="bold")
    console.print(table)
    return CommandResult(result.path, result.summary)


@stage_command(app, "coco")
def coco(
    annotations: Path = typer.Option(..., "--annotations", help="COCO instances JSON file."),
    images: Path = typer.Option(..., "--images", help="Folder with the annotated images."),
    classes: str = typer.Option(
        ..., "--classes", help="Comma-separated category names; mask ids 1..K in this order."
    ),
    out: Path | None = out_option(OUT_HELP),
    priority: str = typer.Option(
        None,
        "--priority",
        help="Overlap priority, highest first (default: the --classes order); unlisted "
        "classes follow in --classes order.",
    ),
    split: str = _split_option("0.7,0.15,0.15"),
    seed: int = seed_option(SEED_HELP),
    workers: int | None = workers_option(),
    include_empty: bool = typer.Option(
        False, "--include-empty", help="Keep images without any of the classes (all background)."
    ),
    crowd: str = typer.Option(
        "ignore", "--crowd", help="Crowd regions: ignore (255), class (paint them), or skip."
    ),
    overwrite: bool = overwrite_option(),
) -> CommandResult:
    """Semantic masks from COCO instance annotations (polygons, RLE, crowd).

    Example:

        cvtool prepare coco --annotations annotations/instances_val2017.json
        --images val2017 --classes person,car,bus,dog --out data/coco4
    """
    from cvtool.api.params import as_fractions, as_names
    from cvtool.formats.coco import prepare_coco

    result = prepare_coco(
        annotations,
        images,
        as_names(classes, "classes"),
        _out_dir(out, "coco"),
        priority=as_names(priority, "priority"),
        split=as_fractions(split, 3, "split"),
        seed=seed,
        workers=workers,
        include_empty=include_empty,
        crowd=crowd,
        overwrite=overwrite,
    )
    return _report(result)


@stage_command(app, "camvid")
def camvid(
    root: Path = typer.Option(..., "--root", help="CamVid folder (Kaggle or SegNet layout)."),
    out: Path | None = out_option(OUT_HELP),
    class_dict: Path = typer.Option(
        None, "--class-dict", help="name,r,g,b CSV (default: ROOT/class_dict.csv)."
    ),
    void: str = typer.Option(
        "ignore", "--void", help="Void/Unlabelled pixels: ignore (255) or class."
    ),
    workers: int | None = workers_option(),
    overwrite: bool = overwrite_option(),
) -> CommandResult:
    """CamVid RGB or index labels -> index masks; keeps CamVid's own train/val/test split.

    Example:

        cvtool prepare camvid --root CamVid --out data/camvid
    """
    from cvtool.formats.camvid import prepare_camvid

    result = prepare_camvid(
        root,
        _out_dir(out, "camvid"),
        class_dict=class_dict,
        void=void,
        workers=workers,
        overwrite=overwrite,
    )
    if result.summary["unknown_pixels"]:
        warn(
            f"{result.summary['unknown_pixels']:,} pixels in "
            f"{result.summary['images_with_unknown']} label images had colours of no class; "
            "they are ignore (255)"
        )
    return _report(result)


@stage_command(app, "voc")
def voc(
    root: Path = typer.Option(
        ..., "--root", help="VOCdevkit/VOC2012-style folder, or <n>_image/<n>_target pairs."
    ),
    out: Path | None = out_option(OUT_HELP),
    split: str = typer.Option(
        None,
        "--split",
        help="train,val,test fractions of a random split (default: the official "
        "ImageSets/Segmentation lists, else 0.7,0.15,0.15).",
    ),
    seed: int = seed_option(SEED_HELP),
    workers: int | None = workers_option(),
    overwrite: bool = overwrite_option(),
) -> CommandResult:
    """PASCAL VOC palette, index or RGB-coloured masks -> index masks (255 boundary = ignore).

    Example:

        cvtool prepare voc --root VOCdevkit/VOC2012 --out data/voc
    """
    from cvtool.api.params import as_fractions
    from cvtool.formats.voc import prepare_voc

    result = prepare_voc(
        root,
        _out_dir(out, "voc"),
        split=as_fractions(split, 3, "split") if split else None,
        seed=seed,
        workers=workers,
        overwrite=overwrite,
    )
    return _report(result)


@stage_command(app, "folder")
def folder(
    root: Path = typer.Option(..., "--root", help="Folder with one subfolder of images per class."),
    out: Path | None = out_option(OUT_HELP),
    val: float = typer.Option(0.2, "--val", min=0, max=1, help="Validation fraction per class."),
    test: float = typer.Option(0.0, "--test", min=0, max=1, help="Test fraction per class."),
    seed: int = seed_option(SEED_HELP),
    workers: int | None = workers_option(),
    overwrite: bool = overwrite_option(),
) -> CommandResult:
    """Image-folder classification set -> stratified splits/{train,val,test}.csv (path,label).

    Example:

        cvtool prepare folder --root RussianWildlife --out data/wildlife --val 0.2 --test 0.1
    """
    from cvtool.formats.folders import prepare_folder

    result = prepare_folder(
        root,
        _out_dir(out, "folder"),
        val=val,
        test=test,
        seed=seed,
        workers=workers,
        overwrite=overwrite,
    )
    for path, reason in result.manifest.extra["skipped_unreadable"].items():
        warn(f"skipped {path}: {reason}")
    if result.summary["empty_class_folders"]:
        names = ", ".join(result.summary["empty_class_folders"])
        warn(f"folders without images (not classes): {names}")
    return _report(result)


@stage_command(app, "stats")
def stats(
    directory: Path = typer.Argument(..., help="A prepared dataset directory."),
    out: Path | None = out_option("Folder for class_distribution.csv/.png (default: DIR/stats)."),
    workers: int | None = workers_option(),
) -> CommandResult:
    """Class distribution per split (pixels or images per class): table and bar chart PNG.

    Example:

        cvtool prepare stats data/camvid
    """
    from rich.table import Table

    from cvtool.formats.stats import class_distribution, write_distribution

    dist = class_distribution(directory, workers)
    _, png = write_distribution(dist, out or directory / "stats")
    table = Table(title=literal(f"{directory}: {dist.unit} per class"))
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
    return CommandResult(png, {"task": dist.task, "unit": dist.unit, "counts": dist.counts})
