"""`cvtool prepare ...`: turn raw datasets into prepared dataset directories."""

from __future__ import annotations

from pathlib import Path

import typer

from cvtool.cli.common import (
    CommandResult,
    out_option,
    overwrite_option,
    seed_option,
    stage_command,
    workers_option,
)

app = typer.Typer(
    help="Turn raw datasets (COCO, CamVid, VOC, image folders) into prepared dataset "
    "directories.\n\nExample: cvtool prepare camvid --root CamVid --out data/camvid",
    no_args_is_help=True,
)

OUT_HELP = "Output dataset directory, built atomically (default: runs/prepare/KIND, numbered)."
SEED_HELP = "Seed of the split."


def _split_option(default: str | None) -> typer.models.OptionInfo:
    return typer.Option(
        default,
        "--split",
        help="train,val,test fractions (sum to 1); stratified by the classes of each image.",
    )


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
    from cvtool.api.prepare import prepare_coco

    result = prepare_coco(
        annotations,
        images,
        classes,
        out,
        priority=priority,
        split=split,
        seed=seed,
        workers=workers,
        include_empty=include_empty,
        crowd=crowd,
        overwrite=overwrite,
        progress=True,
    )
    return CommandResult(result.path, result.summary)


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
    from cvtool.api.prepare import prepare_camvid

    result = prepare_camvid(
        root,
        out,
        class_dict=class_dict,
        void=void,
        workers=workers,
        overwrite=overwrite,
        progress=True,
    )
    return CommandResult(result.path, result.summary)


@stage_command(app, "voc")
def voc(
    root: Path = typer.Option(
        ..., "--root", help="VOCdevkit/VOC2012-style folder, or <n>_image/<n>_target pairs."
    ),
    out: Path | None = out_option(OUT_HELP),
    split: str = typer.Option(
        None,
        "--split",
        help="train,val,test fractions of a stratified split (default: the official "
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
    from cvtool.api.prepare import prepare_voc

    result = prepare_voc(
        root,
        out,
        split=split or None,
        seed=seed,
        workers=workers,
        overwrite=overwrite,
        progress=True,
    )
    return CommandResult(result.path, result.summary)


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
    from cvtool.api.prepare import prepare_folder

    result = prepare_folder(
        root,
        out,
        val=val,
        test=test,
        seed=seed,
        workers=workers,
        overwrite=overwrite,
        progress=True,
    )
    return CommandResult(result.path, result.summary)


@stage_command(app, "stats")
def stats(
    directory: Path = typer.Argument(..., help="A prepared dataset directory."),
    out: Path | None = out_option("Folder for class_distribution.csv/.png (default: DIR/stats)."),
    workers: int | None = workers_option(),
    overwrite: bool = overwrite_option(),
) -> CommandResult:
    """Class distribution per split (pixels or images per class): table and bar chart PNG.

    Example:

        cvtool prepare stats data/camvid
    """
    from cvtool.api.prepare import dataset_stats

    result = dataset_stats(directory, out, workers=workers, overwrite=overwrite, progress=True)
    return CommandResult(
        result.plot, {"task": result.task, "unit": result.unit, "counts": result.counts}
    )
