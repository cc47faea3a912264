"""Model registry: a plain dict from name to `ModelSpec` (builder, task, typed parameters and
training defaults).

Importing this module is cheap (no torch): builders are named as `module:function` strings and
imported only by `build_model`, so `cvtool train --help` can list the models instantly. Each
`Param` carries its type, default and help, so the CLI renders a model's options from its spec
and a config file's values are checked against it.

>>> model = build_model("unet", num_classes=4, width=16)   # logits (N, 4, H, W) at input size

Adding a model is one `MODELS` entry (and the contract test in `tests/engine/test_registries.py`
covers it automatically).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cvtool.core.errors import ParameterError

Task = Literal["segmentation", "classification"]

SEG_SGD = {
    "optimizer": "sgd",
    "lr": 0.01,
    "momentum": 0.9,
    "weight_decay": 1e-4,
    "scheduler": "poly",
}
SEG_ADAM = {"optimizer": "adam", "lr": 1e-3, "weight_decay": 1e-4, "scheduler": "onecycle"}
CLS_ADAM = {**SEG_ADAM, "label_smoothing": 0.1}


@dataclass(frozen=True)
class Param:
    """One builder keyword argument beyond `num_classes`.

    `type` is `int`, `float`, `str`, `bool` or `Path` (a `Path` parameter is optional and
    defaults to None); `choices` restricts a `str`; `minimum` bounds a number from below;
    `quick` is a small, offline value for fast tests (None: the default is already quick).
    """

    name: str
    type: type
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    quick: Any = None

    def check(self, value: Any) -> Any:
        """`value` converted to this parameter's type; `ParameterError` when it does not fit."""
        if self.type is Path:
            return None if value is None else str(value)
        ok = isinstance(value, self.type) and not (
            self.type is not bool and isinstance(value, bool)
        )
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise ParameterError(
                f"{self.name} must be of type {self.type.__name__}, got {value!r}", self.name
            )
        if self.choices and value not in self.choices:
            raise ParameterError(
                f"{self.name} must be one of {', '.join(self.choices)}, got {value!r}", self.name
            )
        if self.minimum is not None and value < self.minimum:
            raise ParameterError(
                f"{self.name} must be at least {self.minimum}, got {value!r}", self.name
            )
        return value


PRETRAINED = Param(
    "pretrained",
    bool,
    True,
    "Start the backbone from ImageNet weights (downloaded once; offline, turn this off or "
    "give a local weights file).",
    quick=False,
)
WEIGHTS = Param("weights", Path, None, "Local ImageNet weights file for the backbone/encoder.")


def _encoder(default: str) -> Param:
    return Param(
        "encoder",
        str,
        default,
        "segmentation-models-pytorch encoder, e.g. resnet34, resnet50, efficientnet-b0.",
        quick="resnet18",
    )


@dataclass(frozen=True)
class ModelSpec:
    """How to build one registered model and how to train it by default.

    `params` are the builder's keyword arguments beyond `num_classes` (each becomes a CLI
    option); `defaults` are the optimizer/scheduler/loss settings the trainer uses unless told
    otherwise.
    """

    builder: str
    task: Task
    summary: str
    params: tuple[Param, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def pretrained(self) -> bool:
        """Whether the model has a part with downloadable weights."""
        return any(p.name == PRETRAINED.name for p in self.params)

    def kwargs(self, given: dict[str, Any]) -> dict[str, Any]:
        """Every builder keyword argument: `given` checked against the parameters, defaults for
        the rest. Unknown names raise `ParameterError`."""
        names = [p.name for p in self.params]
        unknown = sorted(set(given) - set(names))
        if unknown:
            valid = ", ".join(names) or "none"
            raise ParameterError(
                f"model_kwargs: unknown parameter(s) {', '.join(unknown)}; valid: {valid}",
                "model_kwargs",
            )
        return {
            p.name: p.check(given[p.name]) if p.name in given else p.default for p in self.params
        }

    def build(self, num_classes: int, **kwargs: Any) -> Any:
        module, fn = self.builder.split(":")
        return getattr(importlib.import_module(module), fn)(num_classes=num_classes, **kwargs)


MODELS: dict[str, ModelSpec] = {
    "unet": ModelSpec(
        "cvtool.segment.models.unet:build_unet",
        "segmentation",
        "U-Net from scratch (double 3x3 conv + BN + ReLU, 4 poolings).",
        (
            Param("width", int, 64, "Base channels (doubled at each pooling).", minimum=1, quick=4),
            Param(
                "upsample",
                str,
                "transpose",
                "Decoder upsampling: ConvTranspose2d k=2 s=2, or bilinear x2 + 1x1 conv.",
                choices=("transpose", "bilinear"),
            ),
        ),
        SEG_ADAM,
    ),
    "segnet": ModelSpec(
        "cvtool.segment.models.segnet:build_segnet",
        "segmentation",
        "SegNet: VGG16-BN encoder, decoder unpools with the encoder's max-pool indices.",
        (PRETRAINED, WEIGHTS, Param("freeze_encoder", bool, False, "Train the decoder only.")),
        SEG_SGD,
    ),
    "fcn_resnet50": ModelSpec(
        "cvtool.segment.models.torchvision:build_fcn_resnet50",
        "segmentation",
        "torchvision FCN with a ResNet-50 backbone, new head for the dataset's classes.",
        (PRETRAINED, WEIGHTS),
        SEG_SGD,
    ),
    "deeplabv3_resnet50": ModelSpec(
        "cvtool.segment.models.torchvision:build_deeplabv3_resnet50",
        "segmentation",
        "torchvision DeepLabV3 with a ResNet-50 backbone, new head for the dataset's classes.",
        (PRETRAINED, WEIGHTS),
        SEG_SGD,
    ),
    "smp-unet": ModelSpec(
        "cvtool.segment.models.smp:build_smp_unet",
        "segmentation",
        "segmentation-models-pytorch U-Net (encoder resnet34, efficientnet-b0, ...).",
        (_encoder("resnet34"), PRETRAINED, WEIGHTS),
        SEG_ADAM,
    ),
    "smp-deeplabv3plus": ModelSpec(
        "cvtool.segment.models.smp:build_smp_deeplabv3plus",
        "segmentation",
        "segmentation-models-pytorch DeepLabV3+ (encoder resnet50, ...).",
        (_encoder("resnet50"), PRETRAINED, WEIGHTS),
        SEG_ADAM,
    ),
    "convnet": ModelSpec(
        "cvtool.classify.models:build_convnet",
        "classification",
        "Small CNN from scratch: 3 conv+ReLU+max-pool blocks (32/64/128) and one linear layer.",
        (),
        CLS_ADAM,
    ),
    "resnet18": ModelSpec(
        "cvtool.classify.models:build_resnet18",
        "classification",
        "torchvision ResNet-18 with its last layer replaced for the dataset's classes.",
        (
            PRETRAINED,
            WEIGHTS,
            Param("freeze_backbone", bool, False, "Train the new last layer only."),
        ),
        CLS_ADAM,
    ),
}


def get_spec(name: str) -> ModelSpec:
    """The registered spec for `name`; a KeyError listing the valid names otherwise."""
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; valid names: {', '.join(MODELS)}") from None


def build_model(name: str, num_classes: int, **kwargs: Any) -> Any:
    """Build registered model `name` for `num_classes` outputs (an `nn.Module` returning logits)."""
    return get_spec(name).build(num_classes, **kwargs)


def rebuild_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Builder kwargs for rebuilding a trained model: its own state dict replaces any weights."""
    out = dict(kwargs)
    if PRETRAINED.name in out:
        out[PRETRAINED.name] = False
    if WEIGHTS.name in out:
        out[WEIGHTS.name] = None
    return out
