"""Model registry: a plain dict from name to `ModelSpec` (builder + task + training defaults).

Importing this module is cheap (no torch): builders are named as `module:function` strings and
imported only by `build_model`, so `cvtool train --help` can list the models instantly.

>>> model = build_model("unet", num_classes=4, width=16)   # logits (N, 4, H, W) at input size
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Literal

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
class ModelSpec:
    """How to build one registered model and how to train it by default.

    `params` names the builder's keyword arguments beyond `num_classes` (each becomes a CLI
    option); `defaults` are the optimizer/scheduler/loss settings the trainer uses unless told
    otherwise; `pretrained` says whether the model has a part with downloadable weights.
    """

    builder: str
    task: Task
    summary: str
    params: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)
    pretrained: bool = False

    def build(self, num_classes: int, **kwargs: Any) -> Any:
        module, fn = self.builder.split(":")
        return getattr(importlib.import_module(module), fn)(num_classes=num_classes, **kwargs)


_PRETRAINED = ("pretrained", "weights")

MODELS: dict[str, ModelSpec] = {
    "unet": ModelSpec(
        "cvtool.segment.models.unet:build_unet",
        "segmentation",
        "U-Net from scratch (double 3x3 conv + BN + ReLU, 4 poolings).",
        ("width", "upsample"),
        SEG_ADAM,
    ),
    "segnet": ModelSpec(
        "cvtool.segment.models.segnet:build_segnet",
        "segmentation",
        "SegNet: VGG16-BN encoder, decoder unpools with the encoder's max-pool indices.",
        (*_PRETRAINED, "freeze_encoder"),
        SEG_SGD,
        pretrained=True,
    ),
    "fcn_resnet50": ModelSpec(
        "cvtool.segment.models.torchvision:build_fcn_resnet50",
        "segmentation",
        "torchvision FCN with a ResNet-50 backbone, new head for the dataset's classes.",
        _PRETRAINED,
        SEG_SGD,
        pretrained=True,
    ),
    "deeplabv3_resnet50": ModelSpec(
        "cvtool.segment.models.torchvision:build_deeplabv3_resnet50",
        "segmentation",
        "torchvision DeepLabV3 with a ResNet-50 backbone, new head for the dataset's classes.",
        _PRETRAINED,
        SEG_SGD,
        pretrained=True,
    ),
    "smp-unet": ModelSpec(
        "cvtool.segment.models.smp:build_smp_unet",
        "segmentation",
        "segmentation-models-pytorch U-Net (--encoder resnet34, efficientnet-b0, ...).",
        ("encoder", *_PRETRAINED),
        {**SEG_ADAM, "encoder": "resnet34"},
        pretrained=True,
    ),
    "smp-deeplabv3plus": ModelSpec(
        "cvtool.segment.models.smp:build_smp_deeplabv3plus",
        "segmentation",
        "segmentation-models-pytorch DeepLabV3+ (--encoder resnet50, ...).",
        ("encoder", *_PRETRAINED),
        {**SEG_ADAM, "encoder": "resnet50"},
        pretrained=True,
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
        (*_PRETRAINED, "freeze_backbone"),
        CLS_ADAM,
        pretrained=True,
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
    if "pretrained" in out:
        out["pretrained"] = False
    if "weights" in out:
        out["weights"] = None
    return out
