"""Export a trained checkpoint to ONNX or TorchScript, with its metadata and a parity check.

The model is traced at its training input size. When it also runs at another size (every
registered model but the `convnet` classifier, whose linear layer fixes the size), the height
and width stay dynamic. Before the file is kept, the exported model and the PyTorch model run
on the same random inputs (at the traced size, batch 2, and at a second, odd size about 1.5
times larger when dynamic)
and the largest absolute difference of their logits must stay below `TOLERANCE`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cvtool.core.artifacts import check_file_replaceable, replaced_file
from cvtool.core.console import info as say
from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.core.outputs import check_out_not_input
from cvtool.core.transforms import Size
from cvtool.deploy.metadata import ModelInfo

FORMATS = {"onnx": ".onnx", "torchscript": ".torchscript"}
TOLERANCE = 1e-4  # float32 logits
DEFAULT_SIZE = (256, 256)


@dataclass
class ExportOutcome:
    """The written file, its metadata, whether height and width are dynamic, the traced input
    size, and the parity checks: `(input shape, max abs logit difference)`."""

    path: Path
    format: str
    info: ModelInfo
    dynamic_size: bool
    input_size: tuple[int, int]
    checks: list[tuple[tuple[int, ...], float]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def max_abs_diff(self) -> float:
        return max(diff for _, diff in self.checks)


def trace_size(info: ModelInfo, size: Size) -> tuple[int, int]:
    """The input size to trace at: `size`, else the training input size."""
    chosen = size if size is not None else info.preprocess.output_size
    if chosen is None:
        short = info.preprocess.size
        chosen = (short, short) if isinstance(short, int) else DEFAULT_SIZE
    return (chosen, chosen) if isinstance(chosen, int) else (int(chosen[0]), int(chosen[1]))


def _runs_at(model: Any, shape: tuple[int, ...]) -> bool:
    import torch

    try:
        with torch.inference_mode():
            model(torch.zeros(shape))
    except (RuntimeError, AssertionError):  # shape errors; lazy layers assert their input size
        return False
    return True


def _exported(fmt: str, path: Path) -> Any:
    """The written file, loaded back as inference will load it (metadata checked too)."""
    if fmt == "onnx":
        from cvtool.deploy.onnx import OnnxModule

        return OnnxModule(path)
    from cvtool.deploy.torchscript import load_torchscript

    return load_torchscript(path)[0]


def _parity(model: Any, exported: Any, shapes: list[tuple[int, ...]]) -> list[tuple[Any, float]]:
    import torch

    generator = torch.Generator().manual_seed(0)
    checks = []
    for shape in shapes:
        x = torch.randn(shape, generator=generator)
        with torch.inference_mode():
            diff = (model(x).float() - exported(x).float()).abs().max().item()
        checks.append((shape, float(diff)))
    return checks


def default_export_path(checkpoint: Path, fmt: str) -> Path:
    """Beside the checkpoint: `checkpoints/best.onnx`, `checkpoints/best.torchscript`."""
    return checkpoint.with_suffix(FORMATS[fmt])


def export_model(
    model_path: Path,
    fmt: str = "onnx",
    out: Path | None = None,
    size: Size = None,
    overwrite: bool = False,
) -> ExportOutcome:
    """Export the checkpoint (or run dir's best checkpoint) `model_path` to `out`."""
    import torch

    from cvtool.deploy.models import checkpoint_info, model_kind
    from cvtool.engine.checkpoint import load_checkpoint

    if fmt not in FORMATS:
        raise ParameterError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}", "format")
    if fmt == "onnx":
        from cvtool.deploy.onnx import import_onnx

        import_onnx()  # fail before any work when the extra is missing
    if model_kind(model_path) != "checkpoint":
        raise CvtoolError(
            f"{model_path} is not a training run or checkpoint",
            "export takes a run dir or a checkpoint written by `cvtool train`",
            param="model",
        )
    start = time.perf_counter()
    checkpoint = load_checkpoint(model_path, map_location="cpu")
    out = out or default_export_path(checkpoint.path, fmt)
    check_out_not_input(out, {"model": checkpoint.path})
    check_file_replaceable(out, overwrite)
    info = checkpoint_info(checkpoint)
    model = checkpoint.model.cpu().eval()
    h, w = trace_size(info, size)
    second = (1, 3, h + h // 2 + 1, w + w // 2 + 3)  # odd sizes exercise the models' padding
    dynamic = _runs_at(model, second)
    info.input_size = None if dynamic else (h, w)
    shapes = [(2, 3, h, w), *([second] if dynamic else [])]
    example = torch.randn(shapes[0], generator=torch.Generator().manual_seed(1))
    say(f"exporting {checkpoint.model_name} ({info.task}, {len(info.classes)} classes) to {fmt}")
    with replaced_file(out, overwrite) as tmp:
        try:
            if fmt == "onnx":
                from cvtool.deploy.onnx import export_onnx

                export_onnx(model, example, info, dynamic, tmp)
            else:
                from cvtool.deploy.torchscript import export_torchscript

                export_torchscript(model, example, info, tmp)
        except (RuntimeError, TypeError, ValueError) as e:
            message = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise CvtoolError(
                f"cannot export {checkpoint.model_name} to {fmt}: {message}"
            ) from None
        checks = _parity(model, _exported(fmt, tmp), shapes)
        _report(checks, fmt)
    return ExportOutcome(out, fmt, info, dynamic, (h, w), checks, time.perf_counter() - start)


def _report(checks: list[tuple[Any, float]], fmt: str) -> None:
    for shape, diff in checks:
        dims = "x".join(map(str, shape))
        say(f"parity {fmt} vs PyTorch, input {dims}: max |logit diff| {diff:.3g}")
    worst = max(diff for _, diff in checks)
    if not worst < TOLERANCE:
        raise CvtoolError(
            f"the exported model's logits differ from PyTorch's by up to {worst:.3g} "
            f"(at most {TOLERANCE:g} is accepted for float32); nothing was written",
            "report the model and the library versions: an operator exports incorrectly",
        )
