"""Export from Python: a trained checkpoint to ONNX or TorchScript, checked against PyTorch."""

from __future__ import annotations

from cvtool.api.params import PathLike, SizeLike, as_optional_path, as_path, as_size
from cvtool.api.results import ExportResult
from cvtool.core.console import quiet


def export(
    model: PathLike,
    format: str = "onnx",
    out: PathLike | None = None,
    *,
    size: SizeLike = None,
    overwrite: bool = False,
    progress: bool = False,
) -> ExportResult:
    """Export a trained model to ONNX or TorchScript, with its preprocessing as metadata.

    The file holds the task, model name, classes (with colours), mean, std, resize and crop,
    so `predict` needs nothing else. Batch, height and width are dynamic where the model
    allows it (the `convnet` classifier takes its training size only). Before the file is
    kept, the exported model and the PyTorch model run on the same inputs and their logits
    must agree within 1e-4; the differences are printed and returned.

    Args:
        model: a run dir (its best checkpoint, else last) or a checkpoint of `train`.
        format: `onnx` (needs the `export` extra: onnx, onnxruntime) or `torchscript`.
        out: file to write (default: beside the checkpoint, `best.onnx` / `best.torchscript`).
        size: input size to trace at, N or `"HxW"` (default: the training input size).
        overwrite: replace an existing `out`.
        progress: print the parity check on stderr.

    Returns:
        The file, its format, task and model, whether its image size is dynamic, the traced
        input size and the largest logit difference of the parity checks.
    """
    from cvtool.deploy.export import export_model

    with quiet(not progress):
        outcome = export_model(
            as_path(model, "model"),
            format,
            as_optional_path(out, "out"),
            as_size(size, "size"),
            overwrite,
        )
    return ExportResult(
        outcome.path,
        outcome.format,
        outcome.info.task,
        outcome.info.model,
        outcome.dynamic_size,
        outcome.input_size,
        outcome.max_abs_diff,
        [{"shape": list(shape), "max_abs_diff": diff} for shape, diff in outcome.checks],
    )
