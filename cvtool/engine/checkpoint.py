"""Self-describing checkpoints: a `.pt` file alone rebuilds the trained model.

Loading refuses a checkpoint whose weights hold NaN or Inf (written by a diverged run of an
older cvtool; training now stops before saving such weights).

A checkpoint is a dict with `format == "cvtool-checkpoint"`: the run manifest (`run`, a
`RunManifest`: model name and builder kwargs, task, classes, ignore index, preprocessing,
dataset, options, epochs completed, best score), the model state dict (`model`) and the training
state a resumed run needs (`optimizer`, `scaler`, `history`).

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
from cvtool.core.finite import describe_tensors, nonfinite_tensors
from cvtool.core.outputs import check_not_staging
from cvtool.core.transforms import Preprocess
from cvtool.core.weights import unreadable_torch_file
from cvtool.engine.manifest import RunManifest

FORMAT = "cvtool-checkpoint"
FORMAT_VERSION = 2
LEGACY_FORMAT_VERSION = 1  # cvtool 0.1: read for evaluation, not for resuming


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
    run: RunManifest
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

    def dataset_dir(self, data: Path | None) -> Path:
        """`data`, else the dataset the model was trained on, which must still exist."""
        if data is not None:
            return Path(data)
        if not self.dataset.is_dir():
            raise CvtoolError(
                f"the dataset this model was trained on, {self.dataset}, no longer exists",
                "pass `data`: a prepared dataset of the same classes",
                param="data",
            )
        return self.dataset


def resolve_checkpoint(run_dir_or_file: Path) -> Path:
    """A checkpoint file as given, or a run dir's `checkpoints/best.pt` (else `last.pt`); never
    one inside a staging directory (a run that has no checkpoint yet, or was interrupted)."""
    path = Path(run_dir_or_file)
    check_not_staging(path, "run dir or checkpoint")
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


def save_checkpoint(path: Path, run: RunManifest, state: dict[str, Any]) -> None:
    """Write the manifest `run` and `state` (`model` and, for resuming, `optimizer`, `scaler`,
    `history`) atomically, tagged with the format."""
    import torch

    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "run": run.to_dict(), **state}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


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
        raise unreadable_torch_file(path, e, "checkpoint") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise CvtoolError(
            f"{path} is not a cvtool checkpoint",
            "pass a checkpoint written by `cvtool train` (checkpoints/best.pt or last.pt)",
        )
    if raw.get("format_version") == LEGACY_FORMAT_VERSION:
        raw["run"] = _legacy_manifest(raw)
    elif raw.get("format_version") != FORMAT_VERSION:
        raise CvtoolError(
            f"checkpoint {path} has unsupported version {raw.get('format_version')} "
            f"(this cvtool reads versions {LEGACY_FORMAT_VERSION} and {FORMAT_VERSION})",
            "use a checkpoint written by this version of cvtool",
        )
    return raw


def _legacy_manifest(raw: dict[str, Any]) -> dict[str, Any]:
    """The run manifest of a version-1 checkpoint, which stored its description as top-level
    keys: enough to rebuild, evaluate and apply the model (its options are not replayable)."""
    best = raw.get("best") or {}
    return RunManifest(
        model=raw["model_name"],
        model_kwargs=dict(raw["model_kwargs"]),
        task=raw["task"],
        dataset=raw["dataset"],
        classes=list(raw["classes"]),
        ignore_index=int(raw["ignore_index"]),
        preprocess=dict(raw["preprocess"]),
        epochs_completed=int(raw.get("epoch", 0)),
        best=dict(best),
    ).to_dict()


def checkpoint_manifest(raw: dict[str, Any], path: Path) -> RunManifest:
    """The run manifest embedded in the checkpoint `raw` read from `path`."""
    return RunManifest.from_dict(raw.get("run"), f"the manifest of checkpoint {path}")


def check_finite_weights(raw: dict[str, Any], path: Path, run: RunManifest) -> None:
    """Refuse the checkpoint `raw` (read from `path`) when its weights hold NaN or Inf: the
    run diverged, and every number computed from this model would be meaningless."""
    state = raw.get("model")
    bad = nonfinite_tensors(state) if isinstance(state, dict) else []
    if bad:
        raise CvtoolError(
            f"checkpoint {path}: weights contain NaN/Inf in {describe_tensors(bad, len(state))}: "
            f"the run diverged at epoch {run.epochs_completed} or before (the epoch of these "
            "weights); any result of this model would be meaningless",
            "use the checkpoint of an earlier, finite epoch, or train again with a lower "
            "learning rate (this cvtool stops a diverging run and never saves such weights)",
        )


def load_checkpoint(path: Path, map_location: Any = "cpu") -> LoadedCheckpoint:
    """Rebuild the model from the registry with the stored kwargs and load its weights.

    `path` is a checkpoint file or a run dir (see `resolve_checkpoint`)."""
    from cvtool.engine.registry import build_model, get_spec, rebuild_kwargs

    path = resolve_checkpoint(Path(path))
    raw = read_checkpoint(path, map_location)
    run = checkpoint_manifest(raw, path)
    check_finite_weights(raw, path, run)
    try:
        get_spec(run.model)
        model = build_model(run.model, len(run.classes), **rebuild_kwargs(run.model_kwargs))
        model.load_state_dict(raw["model"])
    except (KeyError, RuntimeError) as e:
        raise CvtoolError(f"checkpoint {path} cannot rebuild its model: {e}") from None
    model.to(map_location).eval()
    classes = [ClassInfo.from_dict(c, str(path)) for c in run.classes]
    run_dir = path.parent.parent if path.parent.name == "checkpoints" else None
    return LoadedCheckpoint(
        model=model,
        model_name=run.model,
        model_kwargs=dict(run.model_kwargs),
        task=run.task,
        classes=classes,
        ignore_index=int(run.ignore_index),
        preprocess=Preprocess.from_dict(run.preprocess),
        epoch=run.epochs_completed,
        dataset=Path(run.dataset),
        run_dir=run_dir,
        path=path,
        run=run,
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
