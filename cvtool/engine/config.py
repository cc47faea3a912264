"""Training options, and how model/task defaults fill in the ones left unset.

>>> TrainConfig("unet", data="data/camvid", size="96x128", model_kwargs={"width": 16})

Values are normalised when the config is made (paths, sizes such as `"32x32"`, `"32"`, `32` or
`(32, 48)`, mean/std triples) and checked by `resolved`; a value that cannot work raises
`ParameterError` naming the parameter.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from cvtool.core.batch_augment import AUGMENT_DEVICES
from cvtool.core.cache import CACHE_MODES
from cvtool.core.errors import ParameterError
from cvtool.core.transforms import (
    AUGMENT_PRESETS,
    IMAGENET_MEAN,
    IMAGENET_STD,
    Preprocess,
    Size,
    parse_size,
)
from cvtool.engine.losses import LOSSES
from cvtool.engine.optim import OPTIMIZERS, SCHEDULERS
from cvtool.engine.registry import MODELS, ModelSpec

# Preprocessing when size/crop are "default".
TASK_SIZES: dict[str, tuple[Size, Size]] = {
    "segmentation": (256, 256),
    "classification": ((224, 224), None),
}
# Optimisation settings a model spec may override (`ModelSpec.defaults`).
OPTIM_DEFAULTS: dict[str, Any] = {
    "optimizer": "adam",
    "lr": 1e-3,
    "momentum": 0.9,
    "weight_decay": 0.0,
    "scheduler": "none",
    "label_smoothing": 0.0,
}
# Loggers besides history.csv, which is always written (`cvtool.engine.loggers`).
LOGGERS = ("csv", "tensorboard", "wandb")
# Where and how a run is written, not what it trains: not part of a run's recorded options.
RUN_CONTROLS = ("out", "resume", "overwrite")
_INTS = ("epochs", "batch_size", "seed", "workers", "patience", "threads")
_FLOATS = ("lr", "momentum", "weight_decay", "focal_gamma", "label_smoothing", "mixup")
_BOOLS = ("oversample", "amp", "channels_last", "resume", "overwrite")
_MINIMUMS = {"epochs": 1, "batch_size": 1, "workers": 0, "patience": 1, "mixup": 0, "threads": 1}


def model_defaults(spec: ModelSpec) -> dict[str, Any]:
    """The optimisation settings `spec` trains with unless told otherwise."""
    return {k: spec.defaults.get(k, v) for k, v in OPTIM_DEFAULTS.items()}


def _triple(value: Any, param: str) -> tuple[float, float, float]:
    parts = value.split(",") if isinstance(value, str) else value
    try:
        out = tuple(float(v) for v in parts)
    except (TypeError, ValueError):
        out = ()
    if len(out) != 3:
        raise ParameterError(f"{param} must be 3 numbers (R, G, B), got {value!r}", param)
    return out  # type: ignore[return-value]


def _typed(name: str, value: Any) -> Any:
    """`value` as the bool/int/float field `name` holds; numeric strings are accepted (YAML reads
    `1e-3` as a string)."""
    if value is None or name not in (*_BOOLS, *_INTS, *_FLOATS):
        return value
    kind: type = bool if name in _BOOLS else int if name in _INTS else float
    if isinstance(value, bool):
        if kind is bool:
            return value
    elif kind is not bool:
        try:
            number = kind(value)
            if number == float(value):
                return number
        except (TypeError, ValueError):
            pass
    raise ParameterError(f"{name} must be of type {kind.__name__}, got {value!r}", name)


@dataclass
class TrainConfig:
    """Everything a training run depends on.

    `None` optimisation settings mean "the model's default" (`ModelSpec.defaults`); `"default"`
    size means the task's (`TASK_SIZES`), and `"default"` crop the task's crop with the task's
    size, no crop with a chosen size. `out=None` writes `runs/train/<model>` (numbered);
    `patience` stops after that many epochs without a better validation score.
    """

    model: str
    data: Path | None = None
    out: Path | None = None
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
    augment_device: str = "cpu"
    mixup: float = 0.0
    seed: int = 0
    patience: int | None = None
    device: str = "auto"
    workers: int = 2
    threads: int | None = None
    cache: str = "none"
    amp: bool = True
    channels_last: bool = True
    resume: bool = False
    overwrite: bool = False
    wandb: str | None = None
    logger: str = "csv"

    def __post_init__(self) -> None:
        for f in fields(self):
            setattr(self, f.name, _typed(f.name, getattr(self, f.name)))
        self.data = None if self.data is None else Path(self.data)
        self.out = None if self.out is None else Path(self.out)
        self.model_kwargs = dict(self.model_kwargs)
        for key in ("size", "crop"):
            value = getattr(self, key)
            if value != "default":
                setattr(self, key, parse_size(value, key))
        self.mean, self.std = _triple(self.mean, "mean"), _triple(self.std, "std")
        if isinstance(self.logger, (list, tuple)):
            self.logger = ",".join(self.logger)
        if isinstance(self.class_weights, (list, tuple)):
            self.class_weights = ",".join(str(w) for w in self.class_weights)

    @property
    def spec(self) -> ModelSpec:
        try:
            return MODELS[self.model]
        except KeyError:
            valid = ", ".join(MODELS)
            raise ParameterError(f"unknown model {self.model!r}; valid: {valid}", "model") from None

    def resolved(self) -> TrainConfig:
        """A copy with every default filled in from the model spec and task, validated; the
        dataset path is made absolute."""
        spec = self.spec
        if self.data is None:
            raise ParameterError("data is required: the prepared dataset dir to train on", "data")
        size, crop = TASK_SIZES[spec.task]
        if self.size != "default":
            size, crop = self.size, None  # a chosen size means no crop unless one is chosen
        unset = {k: v for k, v in model_defaults(spec).items() if getattr(self, k) is None}
        out = replace(
            self,
            **unset,
            data=self.data.resolve(),
            model_kwargs=spec.kwargs(self.model_kwargs),
            size=size,
            crop=crop if self.crop == "default" else self.crop,
        )
        out.validate()
        return out

    def validate(self) -> None:
        """Check the values of a resolved config."""
        for name, minimum in _MINIMUMS.items():
            value = getattr(self, name)
            if value is not None and value < minimum:
                raise ParameterError(f"{name} must be at least {minimum}, got {value}", name)
        if self.lr is None or self.lr <= 0:
            raise ParameterError(f"lr must be positive, got {self.lr}", "lr")
        choices = {
            "optimizer": OPTIMIZERS,
            "scheduler": SCHEDULERS,
            "loss": LOSSES,
            "augment": AUGMENT_PRESETS,
            "augment_device": AUGMENT_DEVICES,
            "cache": CACHE_MODES,
        }
        for name, valid in choices.items():
            if getattr(self, name) not in valid:
                raise ParameterError(
                    f"{name} must be one of {', '.join(valid)}, got {getattr(self, name)!r}", name
                )
        unknown = sorted(self.loggers - set(LOGGERS))
        if unknown:
            raise ParameterError(
                f"logger must be among {', '.join(LOGGERS)} (comma-separated), got {self.logger!r}",
                "logger",
            )
        self.preprocess.validate()

    @property
    def loggers(self) -> set[str]:
        """The loggers to write: `logger`'s names, and `wandb` when a W&B project is set."""
        names = {n.strip() for n in str(self.logger).split(",") if n.strip()}
        return names | ({"wandb"} if self.wandb else set())

    @property
    def preprocess(self) -> Preprocess:
        return Preprocess(self.size, self.crop, self.mean, self.std)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able options (paths as strings, pairs as lists)."""
        d = asdict(self)
        for key in ("data", "out"):
            d[key] = None if d[key] is None else str(d[key])
        d["model_kwargs"] = {
            k: str(v) if isinstance(v, Path) else v for k, v in self.model_kwargs.items()
        }
        for key in ("size", "crop", "mean", "std"):
            if isinstance(d[key], tuple):
                d[key] = list(d[key])
        return d

    def options(self) -> dict[str, Any]:
        """What the run trains: `to_dict()` without the run controls (out, resume, overwrite)."""
        return {k: v for k, v in self.to_dict().items() if k not in RUN_CONTROLS}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """The config of `to_dict()`-style options; unknown names raise `ParameterError`."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ParameterError(
                f"unknown option(s) {', '.join(unknown)}; valid: {', '.join(sorted(names))}",
                unknown[0],
            )
        return cls(**d)
