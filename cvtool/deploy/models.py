"""Open whatever `predict` is given as a model: a training run dir or checkpoint, an exported
ONNX or TorchScript file, YOLO weights, or a `detect run` dir.

>>> model = load_model(Path("runs/train/unet"))
>>> model.kind, model.info.task, model.info.class_names
('checkpoint', 'segmentation', ['background', 'circle', ...])
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cvtool.core.artifacts import read_json
from cvtool.core.errors import CvtoolError
from cvtool.core.outputs import check_not_staging
from cvtool.deploy.metadata import ModelInfo

KINDS = ("checkpoint", "onnx", "torchscript", "yolo")
ACCEPTED = (
    "a run dir or checkpoint (.pt) written by `cvtool train`, an exported .onnx or "
    ".torchscript file (`cvtool export`), YOLO weights (.pt, or a model .yaml), or a "
    "`cvtool detect run` dir"
)


@dataclass
class LoadedModel:
    """A model ready for inference. `module` takes a normalised `(N, 3, H, W)` float tensor
    and returns logits (for `yolo`: the ultralytics model); `info` describes it (None for
    YOLO, whose classes are its own); `label` names it in default output folders."""

    kind: str
    path: Path
    module: Any
    info: ModelInfo | None
    label: str

    @property
    def task(self) -> str:
        return "detection" if self.info is None else self.info.task


def _zip_members(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return []


def _pickled_mentions(path: Path, members: list[str], word: bytes) -> bool:
    pickles = [m for m in members if m.endswith("data.pkl")]
    with zipfile.ZipFile(path) as archive:
        return any(word in archive.read(m) for m in pickles)


def model_kind(path: Path) -> str:
    """Which of `KINDS` the file or folder `path` is (CvtoolError when none)."""
    check_not_staging(path, "model")
    if path.is_dir():
        run = path / "run.json"
        if run.is_file() and "weights" in read_json(run, "run manifest"):
            return "yolo"  # a `detect run` dir records its weights
        return "checkpoint"
    if not path.exists():
        raise CvtoolError(f"model not found: {path}", f"pass {ACCEPTED}", param="model")
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        return "onnx"
    if suffix == ".torchscript":
        return "torchscript"
    if suffix in (".yaml", ".yml"):
        return "yolo"
    if suffix in (".pt", ".pth"):
        members = _zip_members(path)
        if any("/code/" in m for m in members):
            return "torchscript"  # torch.jit.save archives carry their code
        return "yolo" if _pickled_mentions(path, members, b"ultralytics.nn") else "checkpoint"
    raise CvtoolError(f"unknown model file {path}", f"pass {ACCEPTED}", param="model")


def _calibration(checkpoint: Any) -> dict[str, Any] | None:
    """The post-hoc calibration `calibrate` stored for this very checkpoint, if any."""
    from cvtool.engine.calibration import stored_calibration

    found = stored_calibration(checkpoint)
    return None if found is None else found[0].to_dict()


def checkpoint_info(checkpoint: Any) -> ModelInfo:
    """The `ModelInfo` of a loaded cvtool checkpoint."""
    return ModelInfo(
        task=checkpoint.task,
        model=checkpoint.model_name,
        classes=list(checkpoint.classes),
        preprocess=checkpoint.preprocess,
        ignore_index=checkpoint.ignore_index,
        calibration=_calibration(checkpoint),
        source=str(checkpoint.path),
    )


def load_model(path: str | Path, device: Any = "cpu") -> LoadedModel:
    """Open the model at `path` for inference on `device` (a `torch.device` or name)."""
    path = Path(path)
    kind = model_kind(path)
    if kind == "checkpoint":
        from cvtool.engine.checkpoint import load_checkpoint

        checkpoint = load_checkpoint(path, map_location=device)
        label = checkpoint.run_dir.name if checkpoint.run_dir else checkpoint.path.stem
        return LoadedModel(
            kind, checkpoint.path, checkpoint.model, checkpoint_info(checkpoint), label
        )
    if kind == "onnx":
        from cvtool.deploy.onnx import OnnxModule

        module = OnnxModule(path)
        return LoadedModel(kind, path, module.to(device), module.info, path.stem)
    if kind == "torchscript":
        from cvtool.deploy.torchscript import load_torchscript

        module, info = load_torchscript(path, device)
        return LoadedModel(kind, path, module, info, path.stem)
    return _load_yolo(path)


def _load_yolo(path: Path) -> LoadedModel:
    from cvtool.detect.yolo import load_yolo

    weights, label = path, path.stem
    if path.is_dir():
        weights = Path(read_json(path / "run.json", "run manifest")["weights"])
        label = path.name
    return LoadedModel("yolo", weights, load_yolo(weights), None, label)
