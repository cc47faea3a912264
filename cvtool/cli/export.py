"""`cvtool export`: a trained model as an ONNX or TorchScript file, checked against PyTorch."""

from __future__ import annotations

from pathlib import Path

import typer

from cvtool.cli.common import CommandResult, out_option, overwrite_option, stage_command

app = typer.Typer()


@stage_command(app, "export")
def export(
    model: Path = typer.Argument(
        ..., help="A run dir (best checkpoint, else last) or a checkpoint file.", show_default=False
    ),
    format: str = typer.Option("onnx", "--format", help="onnx or torchscript."),
    out: Path | None = out_option(
        "File to write (default: beside the checkpoint, best.onnx or best.torchscript)."
    ),
    size: str | None = typer.Option(
        None, "--size", help="Input size to trace at, N or HxW (default: the training size)."
    ),
    overwrite: bool = overwrite_option("Replace an existing --out file."),
) -> CommandResult:
    """Export a trained model with its preprocessing (mean, std, size, classes) as metadata.

    Batch, height and width stay dynamic where the model allows it. The exported model and the
    PyTorch model run on the same inputs; the largest logit difference is printed and must be
    below 1e-4, or nothing is written. ONNX needs the export extra (onnx, onnxruntime).

    Examples:

        cvtool export runs/train/unet                      # runs/train/unet/checkpoints/best.onnx

        cvtool export runs/train/resnet18 --format torchscript --out resnet18.torchscript
    """
    from cvtool.api import export as api

    result = api.export(model, format, out, size=size, overwrite=overwrite, progress=True)
    summary = result.to_dict()
    summary.pop("path")
    return CommandResult(result.path, summary)
