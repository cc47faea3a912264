"""TorchScript files: a traced model with its metadata as the extra file `cvtool.json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cvtool.core.errors import CvtoolError
from cvtool.deploy.metadata import ModelInfo

EXTRA_FILE = "cvtool.json"


def export_torchscript(model: Any, example: Any, info: ModelInfo, path: Path) -> None:
    """Trace `model` on `example` (shapes stay symbolic where the model computes them from the
    input) and save it with `info`."""
    import warnings

    import torch

    extra = {EXTRA_FILE: json.dumps(info.to_metadata())}
    with warnings.catch_warnings():
        # tracer warnings about shape arithmetic, and TorchScript's deprecation notice
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, example, check_trace=False)
        torch.jit.save(traced, str(path), _extra_files=extra)


def load_torchscript(path: Path, device: Any = "cpu") -> tuple[Any, ModelInfo]:
    """The scripted module (eval mode) and its metadata."""
    import warnings

    import torch

    extra = {EXTRA_FILE: ""}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # TorchScript's deprecation notice
            module = torch.jit.load(str(path), map_location=device, _extra_files=extra)
    except (RuntimeError, ValueError) as e:
        message = str(e).splitlines()[0]
        raise CvtoolError(
            f"cannot load TorchScript model {path}: {message}", param="model"
        ) from None
    try:
        metadata = json.loads(extra[EXTRA_FILE] or "{}")
    except json.JSONDecodeError:
        metadata = {}
    return module.eval(), ModelInfo.from_metadata(metadata, str(path))
