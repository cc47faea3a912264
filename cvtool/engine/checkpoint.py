"""Self-describing checkpoints: a `.pt` file alone rebuilds the trained model.

A checkpoint is a dict with `format == "cvtool-checkpoint"`: the model's registry name and
builder kwargs, task, classes, ignore index, preprocessing, the dataset path, epoch, the model
state dict and the training state (optimizer, scheduler, AMP scaler, history, best score) that
`--resume` needs.

>>> ckpt = load_checkpoint(Path("runs/unet"))     # a run dir (best.pt, else last.pt) or a .pt
>>> image = eval_transform(**ckpt.preprocess.to_dict())(image_uint8)   # (3, H, W) float
>>> logits = ckpt.model(image[None])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cvtool.core.artifacts import ClassInfo, DatasetManifest, atomic_path
from cvtool.core.errors import CvtoolError
from cvtool.core.transforms import Preprocess

FORMAT = "cvtool-checkpoint"
FORMAT_VERSION = 1


@dataclass
class LoadedCheckpoint:
    """A trained model (in eval mode, on `map_location`) and everything needed to use it."""

    model: Any
    model_name: str
    model_kwargs: dict[str, Any]
    task: str
    classes: list[ClassInfo]
    ignore_index: int
    preprocess: Preprocess
    epoch: int
    dataset: Path
    run_dir: Path | None
    path: Path
    raw: dict[str, Any]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def mean(self) -> tuple[float, ...]:
        return self.preprocess.mean

    @property
    def std(self) -> tuple[float, ...]:
        return self.preprocess.std

    @property
    def size(self) -> Any:
        return self.preprocess.size

    @property
    def crop(self) -> Any:
        return self.preprocess.crop


def resolve_checkpoint(run_dir_or_file: Path) -> Path:
    """A checkpoint file as given, or a run dir's `checkpoints/best.pt` (else `last.pt`)."""
    path = Path(run_dir_or_file)
    if path.is_file():
        return path
    if not path.exists():
        raise CvtoolError(f"run dir or checkpoint {path} does not exist")
    for name in ("best.pt", "last.pt"):
        candidate = path / "checkpoints" / name
        if candidate.is_file():
            return candidate
    raise CvtoolError(
        f"no checkpoint in {path}: expected {path}/checkpoints/best.pt or last.pt",
        "pass a run dir written by `cvtool train`, or a .pt file",
    )


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write `payload` (the fields described above) atomically, tagged with the format."""
    import torch

    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, **payload}, tmp)


def read_checkpoint(path: Path, map_location: Any = "cpu") -> dict[str, Any]:
    """The raw checkpoint dict, with clear errors for a missing, corrupt or foreign file."""
    import pickle
    import zipfile

    import torch

    path = Path(path)
    if not path.is_file():
        raise CvtoolError(f"checkpoint not found: {path}")
    try:
        raw = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, OSError) as e:
        raise CvtoolError(
            f"checkpoint {path} is corrupt or not a PyTorch file ({str(e).splitlines()[0]})"
        ) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise CvtoolError(
            f"{path} is not a cvtool checkpoint",
            "pass a checkpoint written by `cvtool train` (checkpoints/best.pt or last.pt)",
        )
    if raw.get("format_version") != FORMAT_VERSION:
        raise CvtoolError(f"checkpoint {path} has unsupported version {raw.get('format_version')}")
    return raw


def load_checkpoint(path: Path, map_location: Any = "cpu") -> LoadedCheckpoint:
    """Rebuild the model from the registry with the stored kwargs and load its weights.

    `path` is a checkpoint file or a run dir (see `resolve_checkpoint`)."""
    from cvtool.engine.registry import build_model, get_spec, rebuild_kwargs

    path = resolve_checkpoint(Path(path))
    raw = read_checkpoint(path, map_location)
    try:
        get_spec(raw["model_name"])
        model = build_model(
            raw["model_name"], len(raw["classes"]), **rebuild_kwargs(raw["model_kwargs"])
        )
        model.load_state_dict(raw["model"])
    except (KeyError, RuntimeError) as e:
        raise CvtoolError(f"checkpoint {path} cannot rebuild its model: {e}") from None
    model.to(map_location).eval()
    classes = [ClassInfo.from_dict(c, str(path)) for c in raw["classes"]]
    run_dir = path.parent.parent if path.parent.name == "checkpoints" else None
    return LoadedCheckpoint(
        model=model,
        model_name=raw["model_name"],
        model_kwargs=dict(raw["model_kwargs"]),
        task=raw["task"],
        classes=classes,
        ignore_index=int(raw["ignore_index"]),
        preprocess=Preprocess.from_dict(raw["preprocess"]),
        epoch=int(raw["epoch"]),
        dataset=Path(raw["dataset"]),
        run_dir=run_dir,
        path=path,
        raw=raw,
    )


def check_classes(checkpoint: Any, manifest: DatasetManifest, data_dir: Path) -> None:
    """Refuse a dataset whose classes (or ignore index) differ from the checkpoint's."""
    mine = [c.name for c in checkpoint.classes]
    theirs = manifest.class_names
    if mine != theirs:
        raise CvtoolError(
            f"checkpoint {checkpoint.path} was trained on {len(mine)} classes ({', '.join(mine)}) "
            f"but {data_dir / 'dataset.json'} defines {len(theirs)} "
            f"({', '.join(theirs)})",
            "evaluate on a dataset prepared with the same classes",
        )
    if checkpoint.ignore_index != manifest.ignore_index:
        raise CvtoolError(
            f"checkpoint {checkpoint.path} uses ignore index {checkpoint.ignore_index} but "
            f"{data_dir / 'dataset.json'} uses {manifest.ignore_index}"
        )
