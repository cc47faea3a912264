"""SegNet (Badrinarayanan et al. 2017): VGG16-BN encoder, decoder unpooled with its indices.

Each of the 5 encoder stages ends in a max-pool that returns its indices; the mirrored decoder
stage max-unpools with those indices to the exact pre-pool size (so odd sizes work) and applies
the same number of conv-BN-ReLU layers. The unpooling is written as a scatter (`unpool`), which
gives the values and gradients of `max_unpool2d` and exports to ONNX and TorchScript with
dynamic image sizes (the ONNX exporter has no `max_unpool2d`).

>>> model = SegNet(num_classes=12)
>>> model(torch.randn(1, 3, 45, 61)).shape
torch.Size([1, 12, 45, 61])
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cvtool.core.weights import load_into, load_weights_file, torchvision_state_dict

VGG16_BN_URL = "https://download.pytorch.org/models/vgg16_bn-6c64b313.pth"
# (input channels, output channels, convs) per stage, as in VGG16.
STAGES = ((3, 64, 2), (64, 128, 2), (128, 256, 3), (256, 512, 3), (512, 512, 3))


def unpool(x: torch.Tensor, indices: torch.Tensor, size: Sequence[Any]) -> torch.Tensor:
    """Max-unpool `x` with the flat `indices` of a max-pool to the pre-pool `size` (H, W)."""
    n, c = x.shape[:2]
    h, w = size
    out = x.new_zeros(n, c, h * w).scatter(2, indices.flatten(2), x.flatten(2))
    return out.view(n, c, h, w)


def _conv_bn_relu(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class SegNet(nn.Module):
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        encoder: list[nn.Module] = []
        for cin, cout, convs in STAGES:
            layers = _conv_bn_relu(cin, cout)
            for _ in range(convs - 1):
                layers += _conv_bn_relu(cout, cout)
            encoder.append(nn.Sequential(*layers))
        self.encoder = nn.ModuleList(encoder)
        decoder: list[nn.Module] = []
        for i, (cin, cout, convs) in enumerate(reversed(STAGES)):
            layers = []
            for _ in range(convs - 1):
                layers += _conv_bn_relu(cout, cout)
            last = i == len(STAGES) - 1
            layers += (
                [nn.Conv2d(cout, num_classes, 3, padding=1)] if last else _conv_bn_relu(cout, cin)
            )
            decoder.append(nn.Sequential(*layers))
        self.decoder = nn.ModuleList(decoder)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = []
        for stage in self.encoder:
            x = stage(x)
            size = x.shape[-2:]
            x, idx = nn.functional.max_pool2d(x, 2, 2, return_indices=True)
            pooled.append((idx, size))
        for stage in self.decoder:
            idx, size = pooled.pop()
            x = stage(unpool(x, idx, size))
        return x

    def vgg_state_dict_keys(self) -> dict[str, str]:
        """Map torchvision `vgg16_bn.features.N.*` prefixes to this encoder's layer prefixes."""
        mapping, index = {}, 0
        for s, stage in enumerate(self.encoder):
            for j, _ in enumerate(stage):
                mapping[f"features.{index}."] = f"encoder.{s}.{j}."
                index += 1
            index += 1  # torchvision's MaxPool2d layer
        return mapping


def _load_vgg(model: SegNet, state: dict, source: str) -> None:
    mapping = model.vgg_state_dict_keys()
    renamed = {}
    for key, value in state.items():
        prefix = key[: key.rfind(".") + 1]
        if prefix in mapping:
            renamed[mapping[prefix] + key[len(prefix) :]] = value
    load_into(model, renamed, source, allow_missing=("decoder.",))


def build_segnet(
    num_classes: int,
    pretrained: bool = False,
    weights: str | Path | None = None,
    freeze_encoder: bool = False,
) -> SegNet:
    """`pretrained` loads torchvision's ImageNet VGG16-BN weights (or `weights`, a local copy
    of that file) into the encoder; `freeze_encoder` trains the decoder only."""
    model = SegNet(num_classes)
    if weights is not None:
        _load_vgg(model, load_weights_file(weights), str(weights))
    elif pretrained:
        _load_vgg(model, torchvision_state_dict(VGG16_BN_URL), "vgg16_bn (ImageNet)")
    if freeze_encoder:
        model.encoder.requires_grad_(False)
    return model
