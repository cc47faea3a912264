"""U-Net (Ronneberger et al. 2015) with batch norm, for any input size and class count.

>>> model = UNet(num_classes=2, width=16, upsample="bilinear")
>>> model(torch.randn(1, 3, 45, 61)).shape     # odd sizes work: logits at input resolution
torch.Size([1, 2, 45, 61])
"""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Upsample = Literal["transpose", "bilinear"]


class DoubleConv(nn.Sequential):
    """(3x3 conv, padding 1 -> BN -> ReLU) twice."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class Up(nn.Module):
    """Upsample x2, pad to the skip connection's size (odd inputs), concatenate, DoubleConv."""

    def __init__(self, in_channels: int, out_channels: int, upsample: Upsample) -> None:
        super().__init__()
        if upsample == "transpose":
            self.up: nn.Module = nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2)
        elif upsample == "bilinear":
            self.up = nn.Sequential(
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                nn.Conv2d(in_channels, out_channels, 1),
            )
        else:
            raise ValueError(f"upsample must be 'transpose' or 'bilinear', got {upsample!r}")
        self.conv = DoubleConv(2 * out_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.up(x)
        dh, dw = skip.shape[-2] - x.shape[-2], skip.shape[-1] - x.shape[-1]
        x = F.pad(x, [dw // 2, dw - dw // 2, dh // 2, dh - dh // 2])
        return self.conv(torch.cat([skip, x], dim=1))


class UNet(nn.Module):
    """Encoder of `depth` DoubleConv + MaxPool 2x2 stages (channels width * 2**i), mirrored
    decoder with skip connections, 1x1 conv to `num_classes` logits."""

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 3,
        width: int = 64,
        depth: int = 4,
        upsample: Upsample = "transpose",
    ) -> None:
        super().__init__()
        channels = [width * 2**i for i in range(depth + 1)]
        self.inc = DoubleConv(in_channels, channels[0])
        self.downs = nn.ModuleList(DoubleConv(a, b) for a, b in pairwise(channels))
        self.ups = nn.ModuleList(Up(b, a, upsample) for a, b in reversed(list(pairwise(channels))))
        self.head = nn.Conv2d(channels[0], num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.inc(x)]
        for down in self.downs:
            h = skips[-1]
            # A 1-pixel map cannot be pooled; keep it (the decoder pads back anyway).
            skips.append(down(F.max_pool2d(h, 2) if min(h.shape[-2:]) >= 2 else h))
        x = skips.pop()
        for up in self.ups:
            x = up(x, skips.pop())
        return self.head(x)


def build_unet(num_classes: int, width: int = 64, upsample: Upsample = "transpose") -> UNet:
    return UNet(num_classes=num_classes, width=width, upsample=upsample)
