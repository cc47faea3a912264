"""`cvtool compare`: the headline metrics of several eval dirs side by side."""

from __future__ import annotations

from pathlib import Path

import typer

from cvtool.cli.common import CommandResult, out_option, overwrite_option, stage_command

app = typer.Typer()


@stage_command(app, "compare")
def compare(
    eval_dirs: list[Path] = typer.Argument(
        ..., help="Eval directories written by evaluate, detect eval or track eval."
    ),
    out: Path | None = out_option(
        "Directory for comparison.csv and comparison.md (default: runs/compare/comparison, "
        "numbered)."
    ),
    overwrite: bool = overwrite_option(),
) -> CommandResult:
    """Compare models: one row per eval dir (per tracker), the best value of each column
    highlighted; comparison.csv and comparison.md hold the values at full precision.

    Segmentation: mIoU, pixel accuracy, mean class accuracy, fw IoU, mAP, ECE. Classification:
    accuracy, macro F1, ECE. Detection: AP, AP50, AP75, AP small/medium/large, TIDE dAPs, ECE.
    Tracking: HOTA, DetA, AssA, MOTA, IDF1, IDSW. Eval dirs of different tasks are refused.

    Example:

        cvtool compare runs/*/eval-test --out runs/comparison
    """
    from cvtool.api import compare as api

    result = api.compare(eval_dirs, out, overwrite=overwrite, progress=True)
    return CommandResult(result.path, {"task": result.task, "models": result.models})
