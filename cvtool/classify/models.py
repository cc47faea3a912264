"""Image classifiers: a small CNN from scratch and a fine-tunable ResNet-18.

>>> ConvNet(num_classes=10).features(torch.randn(1, 3, 224, 224)).shape
torch.Size([1, 128, 14, 14])
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from cvtool.core.weights import load_backbone

RESNET18_URL = "https://download.pytorch.org/models/resnet18-f37072fd.pth"


class ConvNet(nn.Module):
    """conv3x3(32)+ReLU+maxpool 4/4, conv3x3(64)+ReLU+maxpool 2/2, conv3x3(128)+ReLU+maxpool 2/2,
    then one linear layer. The linear layer is lazy, so any input size works (128x14x14 features
    at 224x224)."""

    def __init__(self, num_classes: int, in_channels: int = 3) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(4, 4),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(64, 128, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2, 2),
        )
        self.classifier = nn.LazyLinear(num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


def build_convnet(num_classes: int) -> ConvNet:
    return ConvNet(num_classes)


def build_resnet18(
    num_classes: int,
    pretrained: bool = True,
    weights: str | Path | None = None,
    freeze_backbone: bool = False,
) -> nn.Module:
    """ResNet-18 with a new `fc`; `freeze_backbone` trains the new last layer only."""
    from torchvision.models import resnet18

    model = resnet18(weights=None)
    model.fc = nn.Identity()
    load_backbone(model, pretrained, weights, RESNET18_URL)
    model.fc = nn.Linear(512, num_classes)
    if freeze_backbone:
        model.requires_grad_(False)
        model.fc.requires_grad_(True)
    return model
