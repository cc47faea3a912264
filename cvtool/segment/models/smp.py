"""segmentation-models-pytorch architectures with a chosen encoder.

The model is always built with `encoder_weights=None`; ImageNet encoder weights come from the
local Hugging Face cache, a local file (`weights`), or a download after a fast online check.
Inputs are padded to a multiple of 32 (smp needs it) and the logits cropped back, so any
input size works.

>>> model = build_smp_unet(num_classes=3, encoder="efficientnet-b0", pretrained=False)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cvtool.core.errors import CvtoolError
from cvtool.core.weights import load_into, load_weights_file, require_online


class PadToMultiple(nn.Module):
    """Zero-pad H and W up to a multiple of `multiple`, run `model`, crop the logits back."""

    def __init__(self, model: nn.Module, multiple: int = 32) -> None:
        super().__init__()
        self.model = model
        self.multiple = multiple

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        # Padding by zero is a no-op; no branch, so a traced export keeps dynamic sizes.
        x = F.pad(x, [0, -w % self.multiple, 0, -h % self.multiple])
        return self.model(x)[..., :h, :w]


def _imagenet_encoder_state(encoder: str) -> dict[str, Any]:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError
    from safetensors.torch import load_file
    from segmentation_models_pytorch.encoders import encoders

    settings = encoders[encoder]["pretrained_settings"].get("imagenet")
    if settings is None:
        raise CvtoolError(
            f"encoder {encoder!r} has no ImageNet weights",
            "train it from scratch (`pretrained=False`)",
            param="encoder",
        )
    args = {"repo_id": settings["repo_id"], "filename": "model.safetensors"}
    try:
        path = hf_hub_download(**args, revision=settings["revision"], local_files_only=True)
    except LocalEntryNotFoundError:
        require_online("huggingface.co", f"{settings['repo_id']} ({encoder} ImageNet)")
        path = hf_hub_download(**args, revision=settings["revision"])
    return load_file(path, device="cpu")


def _build(arch: str, num_classes: int, encoder: str, pretrained: bool, weights) -> nn.Module:
    import segmentation_models_pytorch as smp
    from segmentation_models_pytorch.encoders import encoders

    if encoder not in encoders:
        raise CvtoolError(
            f"unknown smp encoder {encoder!r}",
            "try resnet34, resnet50, efficientnet-b0 (see segmentation-models-pytorch's list)",
        )
    model = getattr(smp, arch)(encoder_name=encoder, encoder_weights=None, classes=num_classes)
    if weights is not None:
        load_into(model.encoder, load_weights_file(weights), str(weights))
    elif pretrained:
        load_into(model.encoder, _imagenet_encoder_state(encoder), f"{encoder} (ImageNet)")
    return PadToMultiple(model)


def build_smp_unet(
    num_classes: int,
    encoder: str = "resnet34",
    pretrained: bool = True,
    weights: str | Path | None = None,
) -> nn.Module:
    return _build("Unet", num_classes, encoder, pretrained, weights)


def build_smp_deeplabv3plus(
    num_classes: int,
    encoder: str = "resnet50",
    pretrained: bool = True,
    weights: str | Path | None = None,
) -> nn.Module:
    return _build("DeepLabV3Plus", num_classes, encoder, pretrained, weights)
