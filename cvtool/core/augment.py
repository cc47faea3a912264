"""Training augmentation presets: random parameters, and their application to one uint8 image.

A preset is a random resized crop, a horizontal flip, a rotation and a colour jitter. The random
parameters are drawn from torch's generator in the order and with the distributions of
torchvision's `v2.RandomResizedCrop`, `RandomHorizontalFlip`, `RandomRotation` and
`ColorJitter` (the same seed draws the same parameters), and applied in one pass:

- crop, resize, flip and rotation are one affine map, so each output pixel is sampled once from
  the source (bilinear for the image, nearest for the mask; pixels from outside the image are
  0 in the image and the ignore index 255 in the mask), instead of being resampled three times;
- everything stays uint8 (OpenCV on one thread) until the single conversion to float at the
  end (`cvtool.core.transforms.to_float`).

`cvtool.core.batch_augment` applies the same parameters to a whole batch on the training
device, with the same semantics.

>>> params = sample_params(PRESETS["standard"], (360, 480), (360, 480))
>>> image, mask = augment_sample(image_u8, mask_u8, params, (360, 480))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from cvtool.core.artifacts import IGNORE_INDEX

BRIGHTNESS, CONTRAST, SATURATION = 0, 1, 2  # torchvision's ColorJitter order ids (3 = hue)
GRAY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601, as OpenCV's RGB2GRAY
RATIO = (3 / 4, 4 / 3)  # aspect ratios of the random resized crop (torchvision's default)


@dataclass(frozen=True)
class Preset:
    """`scale`: area range of the random resized crop (None: no crop); `degrees`: rotation
    range ±; `jitter`: brightness, contrast and saturation factors in 1 ± jitter."""

    flip: bool = False
    scale: tuple[float, float] | None = None
    degrees: float = 0.0
    jitter: float = 0.0

    @property
    def geometric(self) -> bool:
        """Whether it crops or rotates (and so needs a fixed output size)."""
        return self.scale is not None or self.degrees > 0


PRESETS = {
    "none": Preset(),
    "flip": Preset(flip=True),
    "standard": Preset(True, (0.8, 1.0), 15.0, 0.2),
    "strong": Preset(True, (0.5, 1.0), 30.0, 0.4),
}


@dataclass(frozen=True)
class AugmentParams:
    """One sample's draw: `crop` (top, left, height, width) in the input, or None for the whole
    input; `flip`; `angle` in degrees, counter-clockwise; `jitter` as `(op, factor)` pairs in the
    order they apply."""

    crop: tuple[int, int, int, int] | None = None
    flip: bool = False
    angle: float = 0.0
    jitter: tuple[tuple[int, float], ...] = ()

    @property
    def warps(self) -> bool:
        """Whether the geometry is more than a flip."""
        return self.crop is not None or self.angle != 0.0


def _uniform(low: float, high: float) -> float:
    import torch

    return float(torch.empty(1).uniform_(low, high).item())


def _random_crop(in_hw: tuple[int, int], scale: tuple[float, float]) -> tuple[int, int, int, int]:
    """`v2.RandomResizedCrop.make_params`, draw for draw."""
    import torch

    height, width = in_hw
    area = height * width
    log_ratio = torch.log(torch.tensor(RATIO))
    for _ in range(10):
        target_area = area * _uniform(scale[0], scale[1])
        aspect = math.exp(_uniform(float(log_ratio[0]), float(log_ratio[1])))
        w = round(math.sqrt(target_area * aspect))
        h = round(math.sqrt(target_area / aspect))
        if 0 < w <= width and 0 < h <= height:
            top = int(torch.randint(0, height - h + 1, size=(1,)).item())
            left = int(torch.randint(0, width - w + 1, size=(1,)).item())
            return top, left, h, w
    ratio = width / height  # the fallback: a centre crop within the ratio range
    if ratio < min(RATIO):
        w, h = width, round(width / min(RATIO))
    elif ratio > max(RATIO):
        w, h = round(height * max(RATIO)), height
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def sample_params(preset: Preset, in_hw: tuple[int, int]) -> AugmentParams:
    """Draw one sample's parameters from torch's global generator (crop, flip, rotation, jitter:
    torchvision's order), for an input of size `in_hw`."""
    import torch

    crop = _random_crop(in_hw, preset.scale) if preset.scale is not None else None
    flip = bool(torch.rand(1) < 0.5) if preset.flip else False
    angle = _uniform(-preset.degrees, preset.degrees) if preset.degrees > 0 else 0.0
    jitter: tuple[tuple[int, float], ...] = ()
    if preset.jitter > 0:
        order = torch.randperm(4).tolist()
        low, high = max(0.0, 1 - preset.jitter), 1 + preset.jitter
        factors = [_uniform(low, high) for _ in range(3)]  # brightness, contrast, saturation
        jitter = tuple((op, factors[op]) for op in order if op != 3)
    return AugmentParams(crop, flip, angle, jitter)


def warp_matrix(p: AugmentParams, in_hw: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """The 2x3 map from output pixel to input pixel coordinates (pixel centres at integers) of
    crop + resize to `out_hw`, then flip, then rotation about the centre."""
    top, left, h, w = p.crop if p.crop is not None else (0, 0, *in_hw)
    out_h, out_w = out_hw
    sx, sy = w / out_w, h / out_h
    resize = np.array([[sx, 0, left + 0.5 * sx - 0.5], [0, sy, top + 0.5 * sy - 0.5], [0, 0, 1]])
    flip = np.array([[-1, 0, out_w - 1], [0, 1, 0], [0, 0, 1]]) if p.flip else np.eye(3)
    a = math.radians(p.angle)
    cos, sin = math.cos(a), math.sin(a)
    cx, cy = (out_w - 1) / 2, (out_h - 1) / 2
    rotate = np.array(
        [
            [cos, -sin, cx - cos * cx + sin * cy],
            [sin, cos, cy - sin * cx - cos * cy],
            [0, 0, 1],
        ]
    )
    return (resize @ flip @ rotate)[:2]


def _cv2() -> Any:
    """OpenCV on one thread: images are processed one per loader worker, in parallel."""
    import cv2

    if cv2.getNumThreads() != 1:
        cv2.setNumThreads(1)
    return cv2


def _lut(scale: float, offset: float) -> np.ndarray:
    return np.clip(np.rint(np.arange(256) * scale + offset), 0, 255).astype(np.uint8)


def jitter_image(image: np.ndarray, jitter: tuple[tuple[int, float], ...]) -> np.ndarray:
    """Brightness (x·f), contrast (blend with the mean grey) and saturation (blend with each
    pixel's grey) of an `(H, W, 3)` uint8 RGB image, rounded and clipped after each step."""
    cv2 = _cv2()
    for op, f in jitter:
        if op == BRIGHTNESS:
            image = cv2.LUT(image, _lut(f, 0.0))
        elif op == CONTRAST:
            mean = float(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).mean())
            image = cv2.LUT(image, _lut(f, (1 - f) * mean))
        else:
            grey = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
            image = cv2.addWeighted(image, f, grey, 1 - f, 0.0)
    return image


def augment_sample(
    image: Any, mask: Any | None, p: AugmentParams, out_hw: tuple[int, int] | None
) -> tuple[Any, Any | None]:
    """Apply `p` to a uint8 `(3, H, W)` image tensor and its `(H, W)` mask tensor (or None);
    returns uint8 tensors of size `out_hw` (the input's when None). Inputs are not modified."""
    import torch

    in_hw = (int(image.shape[-2]), int(image.shape[-1]))
    hwc = image.permute(1, 2, 0).numpy()
    labels = None if mask is None else mask.numpy()
    if p.warps:
        cv2 = _cv2()
        out_h, out_w = out_hw or in_hw
        matrix = warp_matrix(p, in_hw, (out_h, out_w))
        flags = cv2.WARP_INVERSE_MAP
        hwc = cv2.warpAffine(
            np.ascontiguousarray(hwc), matrix, (out_w, out_h), flags=flags | cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0),
        )  # fmt: skip
        if labels is not None:
            labels = cv2.warpAffine(
                np.ascontiguousarray(labels), matrix, (out_w, out_h),
                flags=flags | cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT,
                borderValue=IGNORE_INDEX,
            )  # fmt: skip
    elif p.flip:
        hwc = hwc[:, ::-1]
        labels = None if labels is None else labels[:, ::-1]
    hwc = np.ascontiguousarray(hwc)
    if p.jitter:
        hwc = jitter_image(hwc, p.jitter)
    out_mask = None if labels is None else torch.from_numpy(np.ascontiguousarray(labels))
    return torch.from_numpy(hwc).permute(2, 0, 1), out_mask
