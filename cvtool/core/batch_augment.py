"""Augmentation of a whole batch on the training device (`augment_device="cuda"`).

The loader then only decodes and resizes (uint8, 4x less to copy to the GPU than float), and
the device draws nothing itself: the parameters come from `cvtool.core.augment.sample_params`
(torch's generator on the CPU, seeded per epoch as the loader's workers are), one per sample,
so a run is as reproducible as with augmentation in the loader. Semantics are those of
`cvtool.core.augment.augment_sample`: one affine resampling per image (bilinear; the mask
nearest, with the ignore index outside the image), colour jitter in the drawn order, then the
normalisation of `cvtool.core.transforms.to_float`. The values differ only by rounding: this
path stays in float where the CPU path rounds to uint8 after each step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cvtool.core.artifacts import IGNORE_INDEX
from cvtool.core.augment import (
    BRIGHTNESS,
    CONTRAST,
    GRAY_WEIGHTS,
    PRESETS,
    SATURATION,
    AugmentParams,
    Preset,
    sample_params,
    warp_matrix,
)

AUGMENT_DEVICES = ("cpu", "cuda")  # per image in the loader workers, or per batch on the GPU


def _theta(matrix: np.ndarray, in_hw: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """A pixel-coordinate map (output -> input) as `affine_grid`'s normalised `theta`
    (`align_corners=False`: -1 and 1 are the outer pixel edges)."""
    (in_h, in_w), (out_h, out_w) = in_hw, out_hw
    to_norm = np.array([[2 / in_w, 0, 1 / in_w - 1], [0, 2 / in_h, 1 / in_h - 1], [0, 0, 1]])
    from_norm = np.array([[out_w / 2, 0, (out_w - 1) / 2], [0, out_h / 2, (out_h - 1) / 2]])
    from_norm = np.vstack([from_norm, [0, 0, 1]])
    return (to_norm @ np.vstack([matrix, [0, 0, 1]]) @ from_norm)[:2]


def warp_batch(
    images: Any, masks: Any | None, params: Sequence[AugmentParams], out_hw: tuple[int, int]
) -> tuple[Any, Any | None]:
    """Crop, resize, flip and rotate float images `(N, 3, H, W)` (bilinear, 0 outside) and
    integer masks `(N, H, W)` (nearest, the ignore index outside) in one resampling each."""
    import torch
    import torch.nn.functional as F

    n, in_hw = images.shape[0], (int(images.shape[-2]), int(images.shape[-1]))
    thetas = np.stack([_theta(warp_matrix(p, in_hw, out_hw), in_hw, out_hw) for p in params])
    theta = torch.as_tensor(thetas, dtype=torch.float32, device=images.device)
    grid = F.affine_grid(theta, [n, 3, *out_hw], align_corners=False)
    images = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if masks is not None:
        # labels + 1 so that the zeros padding marks "outside" (0) apart from class 0
        shifted = (masks.to(torch.float32) + 1).unsqueeze(1)
        sampled = F.grid_sample(shifted, grid, mode="nearest", align_corners=False)[:, 0]
        masks = torch.where(sampled == 0, IGNORE_INDEX, sampled.long() - 1)
    return images, masks


def _grey(images: Any) -> Any:
    r, g, b = images.unbind(dim=1)
    return (GRAY_WEIGHTS[0] * r + GRAY_WEIGHTS[1] * g + GRAY_WEIGHTS[2] * b).unsqueeze(1)


def jitter_batch(images: Any, params: Sequence[AugmentParams]) -> Any:
    """Each sample's colour jitter, in its own order, on float images in [0, 1] (every sample
    of a batch comes from one preset, so all have the same number of steps)."""
    import torch

    if not params[0].jitter:
        return images
    device = images.device
    ops = torch.tensor([[op for op, _ in p.jitter] for p in params], device=device)
    factors = torch.tensor([[f for _, f in p.jitter] for p in params], device=device)
    for step in range(ops.shape[1]):
        f = factors[:, step].view(-1, 1, 1, 1)
        for op in (BRIGHTNESS, CONTRAST, SATURATION):
            chosen = (ops[:, step] == op).view(-1, 1, 1, 1)
            if not bool(chosen.any()):
                continue
            if op == BRIGHTNESS:
                target = torch.zeros_like(images[:, :1])
            elif op == CONTRAST:
                target = _grey(images).mean(dim=(1, 2, 3), keepdim=True)
            else:
                target = _grey(images)
            images = torch.where(chosen, (images * f + target * (1 - f)).clamp_(0, 1), images)
    return images


class BatchAugment:
    """Augment uint8 batches on their device and normalise them; `train=False` (validation)
    only normalises. Masks come back as long tensors."""

    def __init__(
        self, preset: Preset, out_hw: tuple[int, int] | None, mean: Sequence[float],
        std: Sequence[float],
    ) -> None:  # fmt: skip
        self.preset, self.out_hw = preset, out_hw
        self.mean, self.std = list(mean), list(std)

    def __call__(self, images: Any, masks: Any | None, train: bool) -> tuple[Any, Any | None]:
        import torch
        from torchvision.transforms.v2 import functional as F

        from cvtool.core.transforms import to_float

        masks = None if masks is None else masks.long()
        if not train or self.preset == PRESETS["none"]:
            return to_float(images, self.mean, self.std), masks
        in_hw = (int(images.shape[-2]), int(images.shape[-1]))
        params = [sample_params(self.preset, in_hw) for _ in range(images.shape[0])]
        images = F.to_dtype(images, torch.float32, scale=True)
        if any(p.warps for p in params):
            images, masks = warp_batch(images, masks, params, self.out_hw or in_hw)
        elif any(p.flip for p in params):
            flips = torch.tensor([p.flip for p in params], device=images.device)
            images = torch.where(flips.view(-1, 1, 1, 1), images.flip(-1), images)
            if masks is not None:
                masks = torch.where(flips.view(-1, 1, 1), masks.flip(-1), masks)
        images = jitter_batch(images, params)
        return F.normalize(images, self.mean, self.std), masks
