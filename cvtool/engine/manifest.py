"""The run manifest: one record of a training run, written as `run.json` and embedded in every
checkpoint.

It describes the trained model (registry name, builder kwargs, task, classes, preprocessing:
what evaluation needs to rebuild and feed it), the options the run was trained with (every
`TrainConfig` field but where it was written, resolved defaults included, so the options alone
replay the run) and how far it got (epochs completed, best score, early stop, divergence).
`cvtool calibrate` adds the post-hoc calibration fitted to one of its checkpoints
(`calibration`); training the run further writes the manifest without it, as the new
checkpoints are not the calibrated one.

>>> run = RunManifest.load(Path("runs/train/unet"))
>>> config = run.config(out=Path("runs/train/unet-replay"))     # the same run, elsewhere
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from cvtool.core.artifacts import atomic_write_json, read_json
from cvtool.core.errors import CvtoolError
from cvtool.engine.config import TrainConfig

RUN_MANIFEST = "run.json"
SCHEMA_VERSION = 2


@dataclass
class RunManifest:
    """`model`, `model_kwargs`, `task`, `dataset`, `classes` (`[{id, name, color}]`),
    `ignore_index` and `preprocess` (`Preprocess.to_dict()`) describe the model; `options` is
    `TrainConfig.options()` of the resolved config; `best` is `{epoch, metric, value}`;
    `stopped_early` is `{epoch, patience}` when patience ended the run; `diverged` is
    `{epoch, found}` when training stopped because that epoch's losses, score or weights were
    not finite (`found` says which; the epoch is not among the completed ones); `calibration` is the
    record `cvtool.api.calibrate` writes (method, parameters, split, checkpoint, numbers)."""

    model: str
    model_kwargs: dict[str, Any]
    task: str
    dataset: str
    classes: list[dict[str, Any]]
    ignore_index: int
    preprocess: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    class_weights: list[float] | None = None
    epochs_completed: int = 0
    best: dict[str, Any] = field(default_factory=dict)
    stopped_early: dict[str, int] | None = None
    diverged: dict[str, Any] | None = None
    device: str = ""
    world_size: int = 1
    command: str = ""
    updated: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    calibration: dict[str, Any] | None = None
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str) -> RunManifest:
        """The manifest of `d` (read from `where`, named in errors)."""
        if not isinstance(d, dict) or d.get("schema_version") != SCHEMA_VERSION:
            version = d.get("schema_version") if isinstance(d, dict) else None
            raise CvtoolError(
                f"{where} is not a run manifest of schema version {SCHEMA_VERSION} "
                f"(found {version!r})",
                "use a run written by this version of cvtool",
            )
        names = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in d.items() if k in names})
        except TypeError as e:
            raise CvtoolError(f"{where} is an incomplete run manifest ({e})") from None

    def config(self, **overrides: Any) -> TrainConfig:
        """The `TrainConfig` of the recorded options, with `overrides` applied."""
        return TrainConfig.from_dict({**self.options, **overrides})

    def save(self, run_dir: Path) -> Path:
        path = Path(run_dir) / RUN_MANIFEST
        atomic_write_json(path, self.to_dict())
        return path

    @classmethod
    def load(cls, run_dir: Path) -> RunManifest:
        """The manifest of a run dir (or of a `run.json` path)."""
        path = Path(run_dir)
        path = path if path.suffix == ".json" else path / RUN_MANIFEST
        return cls.from_dict(read_json(path, "run manifest"), str(path))
