"""torchvision FCN / DeepLabV3 (ResNet-50) with a head for the dataset's classes.

torchvision's models return `{"out": logits}`; `OutTensor` unwraps that so every registered
model returns a logits tensor `(N, C, H, W)` at the input resolution. `pretrained` loads the
ImageNet ResNet-50 weights into the backbone; the head always starts fresh.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from cvtool.core.weights import load_backbone

RESNET50_URL = "https://download.pytorch.org/models/resnet50-0676ba61.pth"


class OutTensor(nn.Module):
    """Return `model(x)["out"]`."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)["out"]


def _build(factory: Callable, num_classes: int, pretrained: bool, weights) -> OutTensor:
    model = factory(weights=None, weights_backbone=None, num_classes=num_classes, aux_loss=False)
    load_backbone(model.backbone, pretrained, weights, RESNET50_URL)
    return OutTensor(model)


def build_fcn_resnet50(
    num_classes: int, pretrained: bool = True, weights: str | Path | None = None
) -> OutTensor:
    from torchvision.models.segmentation import fcn_resnet50

    return _build(fcn_resnet50, num_classes, pretrained, weights)


def build_deeplabv3_resnet50(
    num_classes: int, pretrained: bool = True, weights: str | Path | None = None
) -> OutTensor:
    from torchvision.models.segmentation import deeplabv3_resnet50

    return _build(deeplabv3_resnet50, num_classes, pretrained, weights)
