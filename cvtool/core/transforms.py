"""Joint image + mask transforms for training and evaluation, uint8 until one final conversion.

The deterministic part (resize, centre crop, normalise) is described by `Preprocess`, which is
stored in every checkpoint, so evaluation rebuilds exactly what validation saw:

>>> t = eval_transform(**checkpoint.preprocess.to_dict())
>>> image, mask = t(image_uint8, mask_uint8)        # float (3, H, W) normalised, long (H, W)

Resizing is torchvision.transforms.v2 on uint8 tensors (masks as `tv_tensors.Mask`, so with
nearest-neighbour interpolation); training augmentation is `cvtool.core.augment` (masks
nearest, pixels brought in from outside the image set to the ignore index 255); the image
becomes float once, at the end (`to_float`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cvtool.core.augment import PRESETS, augment_sample, sample_params
from cvtool.core.errors import CvtoolError, ParameterError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
Transform = Callable[..., Any]
AUGMENT_PRESETS = tuple(PRESETS)
Size = int | tuple[int, int] | None


def parse_size(value: object, param: str = "size") -> Size:
    """A size from a string, number or pair: `"256"`/`256` -> 256 (shorter side),
    `"180x240"`/`(180, 240)` -> (180, 240) (height x width), `""`/`None` -> None (keep the size).

    A malformed value raises `ParameterError` naming `param`."""
    if value is None or value == "":
        return None
    parts: list[object] = []
    if isinstance(value, str):
        parts = [int(v) if v.strip().isdigit() else v for v in value.lower().split("x")]
    elif isinstance(value, int):
        parts = [value]
    elif isinstance(value, (tuple, list)):
        parts = list(value)
    ok = len(parts) in (1, 2) and all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in parts
    )
    if not ok:
        raise ParameterError(
            f"{param} must be N or HxW with positive integers, got {value!r}", param
        )
    return parts[0] if len(parts) == 1 else (parts[0], parts[1])  # type: ignore[return-value]


def _size_tuple(size: Size) -> tuple[int, int] | None:
    if size is None or isinstance(size, int):
        return None
    return (int(size[0]), int(size[1]))


@dataclass(frozen=True)
class Preprocess:
    """Deterministic preprocessing: resize (`int` = shorter side, `(h, w)` = exact), optional
    centre crop, then normalisation with `mean`/`std` (0-1 scale)."""

    size: Size = None
    crop: Size = None
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    @property
    def output_size(self) -> tuple[int, int] | None:
        """The fixed (h, w) every image ends up with, when the preprocessing fixes one."""
        if self.crop is not None:
            return (self.crop, self.crop) if isinstance(self.crop, int) else _size_tuple(self.crop)
        return _size_tuple(self.size)

    def validate(self) -> None:
        """Refuse a centre crop larger than the resized image (it would pad with fake labels)."""
        if self.crop is None or self.size is None:
            return
        crop = (self.crop, self.crop) if isinstance(self.crop, int) else self.crop
        short = min(self.size) if isinstance(self.size, tuple) else self.size
        size = self.size if isinstance(self.size, tuple) else (short, short)
        if crop[0] > size[0] or crop[1] > size[1]:
            raise ParameterError(
                f"crop {crop[0]}x{crop[1]} is larger than the resized image (size {self.size})",
                "crop",
                "choose a crop no larger than the size",
            )

    def to_dict(self) -> dict[str, Any]:
        as_json = lambda s: list(s) if isinstance(s, tuple) else s  # noqa: E731
        return {
            "size": as_json(self.size),
            "crop": as_json(self.crop),
            "mean": list(self.mean),
            "std": list(self.std),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Preprocess:
        as_size = lambda s: tuple(s) if isinstance(s, list) else s  # noqa: E731
        return cls(
            size=as_size(d.get("size")),
            crop=as_size(d.get("crop")),
            mean=tuple(d.get("mean", IMAGENET_MEAN)),
            std=tuple(d.get("std", IMAGENET_STD)),
        )


def to_float(images: Any, mean: Sequence[float], std: Sequence[float]) -> Any:
    """uint8 `(..., 3, H, W)` -> float32 in [0, 1], normalised with `mean`/`std`, contiguous:
    the one conversion of every image (torchvision's `ToDtype(scale=True)` and `Normalize`)."""
    import torch
    from torchvision.transforms.v2 import functional as F

    scaled = F.to_dtype(images.contiguous(), torch.float32, scale=True)
    return F.normalize(scaled, list(mean), list(std))


def _resize_steps(p: Preprocess) -> Any:
    from torchvision.transforms import v2

    steps: list[Any] = []
    if p.size is not None:
        steps.append(v2.Resize(p.size if isinstance(p.size, int) else list(p.size)))
    if p.crop is not None:
        steps.append(v2.CenterCrop(p.crop if isinstance(p.crop, int) else list(p.crop)))
    return v2.Compose(steps) if steps else None


class JointTransform:
    """`(image, mask)` or `(image, None)` uint8 tensors -> the preprocessed pair: resize and
    centre crop, then the augmentation `preset` (random, CPU), then, with `normalize`, the
    float conversion. Returns the image alone when called without a mask, and long masks."""

    def __init__(self, preprocess: Preprocess, preset: str = "none", normalize: bool = True):
        self.preprocess, self.normalize = preprocess, normalize
        self.preset = PRESETS[preset]
        self.resize = _resize_steps(preprocess)

    def __call__(self, image: Any, mask: Any = None) -> Any:
        import torch
        from torchvision import tv_tensors

        if self.resize is not None:
            if mask is None:
                image = self.resize(tv_tensors.Image(image))
            else:
                image, mask = self.resize(tv_tensors.Image(image), tv_tensors.Mask(mask))
                mask = mask.as_subclass(torch.Tensor)
            image = image.as_subclass(torch.Tensor)
        if self.preset != PRESETS["none"]:
            params = sample_params(self.preset, (int(image.shape[-2]), int(image.shape[-1])))
            image, mask = augment_sample(image, mask, params, self.preprocess.output_size)
        if self.normalize:
            image = to_float(image, self.preprocess.mean, self.preprocess.std)
            mask = None if mask is None else mask.long()
        return image if mask is None else (image, mask)

    def __repr__(self) -> str:
        return f"JointTransform({self.preprocess}, {self.preset}, normalize={self.normalize})"


def eval_transform(
    size: Size = None,
    crop: Size = None,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> JointTransform:
    """The deterministic validation/evaluation transform (resize, centre crop, normalise)."""
    return JointTransform(Preprocess(size, crop, tuple(mean), tuple(std)))  # type: ignore[arg-type]


def check_preset(preset: str, preprocess: Preprocess) -> None:
    """Refuse an unknown preset, and one that crops or rotates without a fixed output size."""
    if preset not in PRESETS:
        raise CvtoolError(
            f"unknown augmentation preset {preset!r}; valid: {', '.join(AUGMENT_PRESETS)}"
        )
    if PRESETS[preset].geometric and preprocess.output_size is None:
        raise ParameterError(
            f"augmentation preset {preset!r} needs a fixed image size",
            "augment",
            "set `crop` (N) or `size` (HxW)",
        )


def train_transform(preprocess: Preprocess, preset: str = "none") -> JointTransform:
    """Deterministic preprocessing, then the augmentation preset (`cvtool.core.augment`: flip;
    `standard` = random resized crop (scale 0.8-1), flip, rotation ±15°, colour jitter 0.2;
    `strong` = scale 0.5-1, rotation ±30°, jitter 0.4), then normalisation."""
    check_preset(preset, preprocess)
    return JointTransform(preprocess, preset)
