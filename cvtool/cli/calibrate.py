"""`cvtool calibrate`: fit temperature or vector scaling to a trained model; store it in the run."""

from __future__ import annotations

from pathlib import Path

import typer

from cvtool.cli.common import (
    CommandResult,
    batch_size_option,
    device_option,
    seed_option,
    stage_command,
    threads_option,
    workers_option,
)

app = typer.Typer()


@stage_command(app, "calibrate")
def calibrate(
    run: Path = typer.Argument(..., help="A run directory written by `cvtool train`."),
    split: str = typer.Option("val", "--split", help="Held-out split to fit on."),
    method: str = typer.Option(
        "temperature",
        "--method",
        help="temperature (one T; predictions unchanged) or vector (scale and bias per class; "
        "predictions may change).",
    ),
    data: Path | None = typer.Option(
        None, "--data", help="Prepared dataset dir (default: the one the model was trained on)."
    ),
    subsample: float | None = typer.Option(
        None,
        "--subsample",
        min=0.0,
        max=1.0,
        metavar="FRACTION",
        help="Segmentation: fit on this fraction of the labelled pixels, drawn uniformly "
        "(default: all pixels, streamed from disk).",
    ),
    seed: int = seed_option("Seed of the pixel subsample."),
    bins: int = typer.Option(15, "--bins", min=1, help="Calibration bins of the report."),
    batch_size: int = batch_size_option(4),
    device: str = device_option(),
    amp: bool = typer.Option(True, "--amp/--no-amp", help="Mixed precision on CUDA."),
    workers: int | None = workers_option("Image decoding processes (default: all cores)."),
    threads: int | None = threads_option(),
) -> CommandResult:
    """Fit a post-hoc calibration of a segmentation model or classifier on a held-out split.

    The logits of every labelled pixel (or image) of the split are fitted by minimising their
    negative log-likelihood (L-BFGS). The run's run.json records the method, its parameters,
    the split, the checkpoint and the ECE/NLL/Brier before and after; `cvtool evaluate` then
    applies it by default (--no-calibration shows the raw model). Temperature scaling keeps
    every prediction, so accuracy and mIoU stay the same; vector scaling may change them.

    Examples:

        cvtool calibrate runs/unet --split val

        cvtool calibrate runs/unet --subsample 0.05 && cvtool evaluate runs/unet --split test

        cvtool calibrate runs/convnet --method vector
    """
    from cvtool.api.calibrate import calibrate as fit

    result = fit(
        run,
        split,
        method,
        data=data,
        subsample=subsample,
        seed=seed,
        bins=bins,
        batch_size=batch_size,
        device=device,
        amp=amp,
        workers=workers,
        threads=threads,
        progress=True,
    )
    summary = result.to_dict()
    return CommandResult(result.path, {k: v for k, v in summary.items() if k != "path"})
