"""`cvtool evaluate`: score a segmentation model, its predicted masks, or a classifier."""

from __future__ import annotations

from pathlib import Path

import typer

from cvtool.cli.common import (
    CommandResult,
    batch_size_option,
    cache_option,
    device_option,
    out_option,
    overwrite_option,
    stage_command,
    threads_option,
    workers_option,
)
from cvtool.core.errors import ParameterError

app = typer.Typer()


@stage_command(app, "evaluate")
def evaluate(
    paths: list[Path] | None = typer.Argument(
        None,
        help="A run directory or checkpoint file; with --merge, the shard eval directories.",
        show_default=False,
    ),
    data: Path | None = typer.Option(
        None, "--data", help="Prepared dataset dir (default: the one the model was trained on)."
    ),
    split: str = typer.Option("test", "--split", help="Split to evaluate."),
    out: Path | None = out_option(
        "Eval dir to write (default: RUN/eval-SPLIT, or MASK_DIR-eval-SPLIT)."
    ),
    predictions: Path | None = typer.Option(
        None,
        "--predictions",
        metavar="MASK_DIR",
        help="Score these <stem>.png index masks instead of running a model.",
    ),
    merge: bool = typer.Option(
        False,
        "--merge",
        help="Merge the eval dirs of all N shards of one evaluation, each given once as an "
        "argument (needs --out).",
    ),
    shard: str | None = typer.Option(
        None, "--shard", metavar="I/N", help="Evaluate only every N-th image from the I-th."
    ),
    bins: int = typer.Option(15, "--bins", min=1, help="Calibration bins (equal width)."),
    batch_size: int = batch_size_option(4),
    device: str = device_option(),
    amp: bool = typer.Option(True, "--amp/--no-amp", help="Mixed precision on CUDA."),
    fail_threshold: float = typer.Option(
        0.5, "--fail-threshold", min=0.0, max=1.0, help="Gallery: images with IoU at most this."
    ),
    max_failures: int = typer.Option(
        12, "--max-failures", min=0, help="Gallery size (classifiers: most confident mistakes)."
    ),
    tsne_max: int = typer.Option(
        200,
        "--tsne-max",
        min=0,
        help="Classifiers: t-SNE of at most N train and N val images (0 = no t-SNE).",
    ),
    save_masks: bool = typer.Option(
        False, "--save-masks", help="Also write predicted masks/ and masks_colored/."
    ),
    workers: int | None = workers_option("Image decoding processes (default: all cores)."),
    threads: int | None = threads_option(),
    cache: str = cache_option(),
    overwrite: bool = overwrite_option("Replace an existing eval dir."),
    calibration: bool = typer.Option(
        True,
        "--calibration/--no-calibration",
        help="Apply the calibration stored with the run by `cvtool calibrate` (raw and "
        "calibrated numbers side by side); --no-calibration scores the raw model.",
    ),
) -> CommandResult:
    """Evaluate a segmentation model or a classifier on a dataset split; write an eval dir.

    Segmentation: pixel accuracy, mean class accuracy, mIoU, frequency-weighted IoU; per class
    IoU, Dice, precision, recall, pixel-wise average precision; IoU histograms; calibration
    (ECE, adaptive ECE, MCE, classwise ECE, NLL, Brier score, reliability diagram); confusion
    matrix; a gallery of the worst images.

    Classification: accuracy, macro and per-class precision/recall/F1, confusion matrix, ECE,
    MCE and reliability diagram, a gallery of the most confident mistakes, and t-SNE (2-D and
    3-D) of the penultimate features of train and val images.

    Examples:

        cvtool evaluate runs/unet --split test

        cvtool evaluate runs/unet --split test --no-calibration

        cvtool evaluate runs/convnet --split test --tsne-max 100

        cvtool evaluate --predictions other/masks --data data/camvid --split test

        cvtool evaluate runs/unet --shard 0/2 --out runs/unet/eval-0

        cvtool evaluate --merge runs/unet/eval-0 runs/unet/eval-1 --out runs/unet/eval-test
    """
    from cvtool.api import evaluate as api

    paths = paths or []
    if merge:
        if out is None or len(paths) < 2 or predictions is not None:
            raise ParameterError("takes two or more shard eval dirs and --out", "merge")
        result = api.merge_evaluations(paths, out, overwrite=overwrite, progress=True)
    elif predictions is not None:
        if paths or data is None:
            raise ParameterError("needs --data and no RUN argument", "predictions")
        result = api.evaluate_predictions(
            predictions,
            data,
            split,
            out,
            shard=shard,
            fail_threshold=fail_threshold,
            max_failures=max_failures,
            save_masks=save_masks,
            workers=workers,
            overwrite=overwrite,
            progress=True,
        )
    else:
        if len(paths) != 1:
            raise ParameterError("give one run directory or checkpoint (or --predictions)", "paths")
        result = api.evaluate(
            paths[0],
            data,
            split,
            out,
            shard=shard,
            bins=bins,
            fail_threshold=fail_threshold,
            max_failures=max_failures,
            tsne_max=tsne_max,
            save_masks=save_masks,
            batch_size=batch_size,
            device=device,
            amp=amp,
            workers=workers,
            threads=threads,
            cache=cache,
            calibration=calibration,
            overwrite=overwrite,
            progress=True,
        )
    return CommandResult(result.path, {"images": result.images, **result.headline})
