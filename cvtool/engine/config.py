"""Training options, and how model/task defaults fill in the ones left unset."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from cvtool.core.errors import CvtoolError
from cvtool.core.transforms import IMAGENET_MEAN, IMAGENET_STD, Preprocess, Size
from cvtool.engine.registry import ModelSpec

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULERS = ("none", "onecycle", "cosine", "poly")
LOSSES = ("ce", "focal", "dice", "ce+dice", "bce")
# Preprocessing when --size/--crop are not given.
TASK_SIZES: dict[str, tuple[Size, Size]] = {
    "segmentation": (256, 256),
    "classification": ((224, 224), None),
}


@dataclass
class TrainConfig:
    """Everything a training run depends on. `None` optimizer settings mean "the model's
    default" (see `ModelSpec.defaults`); `"default"` size means the task's (`TASK_SIZES`), and
    `"default"` crop the task's crop with the task's size, no crop with a chosen size."""

    model: str
    data: Path
    out: Path
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    epochs: int = 10
    batch_size: int = 8
    optimizer: str | None = None
    lr: float | None = None
    momentum: float | None = None
    weight_decay: float | None = None
    scheduler: str | None = None
    loss: str = "ce"
    class_weights: str | None = None
    focal_gamma: float = 2.0
    label_smoothing: float | None = None
    oversample: bool = False
    size: Size | str = "default"
    crop: Size | str = "default"
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    augment: str = "none"
    mixup: float = 0.0
    seed: int = 0
    device: str = "auto"
    workers: int = 2
    amp: bool = True
    channels_last: bool = True
    resume: bool = False
    overwrite: bool = False
    wandb: str | None = None

    def resolved(self, spec: ModelSpec) -> TrainConfig:
        """A copy with every `None` default filled in from the model spec and task, validated."""
        d = spec.defaults
        size, crop = TASK_SIZES[spec.task]
        out = replace(
            self,
            data=Path(self.data),
            out=Path(self.out),
            optimizer=self.optimizer or d.get("optimizer", "adam"),
            lr=self.lr if self.lr is not None else d.get("lr", 1e-3),
            momentum=self.momentum if self.momentum is not None else d.get("momentum", 0.9),
            weight_decay=self.weight_decay
            if self.weight_decay is not None
            else d.get("weight_decay", 0.0),
            scheduler=self.scheduler or d.get("scheduler", "none"),
            label_smoothing=self.label_smoothing
            if self.label_smoothing is not None
            else d.get("label_smoothing", 0.0),
            size=size if self.size == "default" else self.size,
            # the task's crop goes with the task's size; a chosen size means no crop by default
            crop=(crop if self.size == "default" else None)
            if self.crop == "default"
            else self.crop,
        )
        out.validate()
        return out

    def validate(self) -> None:
        self.preprocess.validate()
        checks = [
            (self.epochs >= 1, f"--epochs must be at least 1, got {self.epochs}"),
            (self.batch_size >= 1, f"--batch-size must be at least 1, got {self.batch_size}"),
            (self.optimizer in OPTIMIZERS, f"--optimizer must be one of {', '.join(OPTIMIZERS)}"),
            (self.scheduler in SCHEDULERS, f"--scheduler must be one of {', '.join(SCHEDULERS)}"),
            (self.lr is not None and self.lr > 0, f"--lr must be positive, got {self.lr}"),
            (self.mixup >= 0, f"--mixup must be >= 0, got {self.mixup}"),
            (self.workers >= 0, f"--workers must be >= 0, got {self.workers}"),
        ]
        for ok, message in checks:
            if not ok:
                raise CvtoolError(message)

    @property
    def preprocess(self) -> Preprocess:
        return Preprocess(self.size, self.crop, tuple(self.mean), tuple(self.std))  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["data"], d["out"] = str(self.data), str(self.out)
        d["model_kwargs"] = {
            k: str(v) if isinstance(v, Path) else v for k, v in self.model_kwargs.items()
        }
        for key in ("size", "crop", "mean", "std"):
            if isinstance(d[key], tuple):
                d[key] = list(d[key])
        return d
