"""Joint image + mask transforms (torchvision.transforms.v2) for training and evaluation.

The deterministic part (resize, centre crop, normalise) is described by `Preprocess`, which is
stored in every checkpoint, so evaluation rebuilds exactly what validation saw:

>>> t = eval_transform(**checkpoint.preprocess.to_dict())
>>> image, mask = t(image_uint8, mask_uint8)        # float (3, H, W) normalised, long (H, W)

Masks are wrapped in `tv_tensors.Mask`, so every geometric transform uses nearest-neighbour
interpolation on them, and pixels that augmentation brings in from outside are filled with the
ignore index (255).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cvtool.core.artifacts import IGNORE_INDEX
from cvtool.core.errors import CvtoolError, ParameterError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
Transform = Callable[..., Any]
AUGMENT_PRESETS = ("none", "flip", "standard", "strong")
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


def _fill() -> dict:
    from torchvision import tv_tensors

    return {tv_tensors.Mask: IGNORE_INDEX, "others": 0}


class JointTransform:
    """Apply a v2 pipeline to `(image, mask)` or `(image, None)`; returns float image and long
    mask (or the image alone for classification)."""

    def __init__(self, steps: Sequence[Any]) -> None:
        from torchvision.transforms import v2

        self.pipeline = v2.Compose(list(steps))

    def __call__(self, image: Any, mask: Any = None) -> Any:
        import torch
        from torchvision import tv_tensors

        if mask is None:
            return self.pipeline(tv_tensors.Image(image)).as_subclass(torch.Tensor)
        image, mask = self.pipeline(tv_tensors.Image(image), tv_tensors.Mask(mask))
        return image.as_subclass(torch.Tensor), mask.as_subclass(torch.Tensor).long()

    def __repr__(self) -> str:
        return repr(self.pipeline)


def _deterministic(p: Preprocess) -> list[Any]:
    from torchvision.transforms import v2

    steps: list[Any] = []
    if p.size is not None:
        steps.append(v2.Resize(p.size if isinstance(p.size, int) else list(p.size)))
    if p.crop is not None:
        steps.append(v2.CenterCrop(p.crop if isinstance(p.crop, int) else list(p.crop)))
    return steps


def _to_float(p: Preprocess) -> list[Any]:
    import torch
    from torchvision import tv_tensors
    from torchvision.transforms import v2

    return [
        v2.ToDtype({tv_tensors.Image: torch.float32, "others": None}, scale=True),
        v2.Normalize(mean=list(p.mean), std=list(p.std)),
    ]


def eval_transform(
    size: Size = None,
    crop: Size = None,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> JointTransform:
    """The deterministic validation/evaluation transform (resize, centre crop, normalise)."""
    p = Preprocess(size, crop, tuple(mean), tuple(std))  # type: ignore[arg-type]
    return JointTransform([*_deterministic(p), *_to_float(p)])


def augmentation(preset: str, output_size: tuple[int, int] | None) -> list[Any]:
    """Random steps of a preset: `flip`; `standard` = random resized crop (scale 0.8-1),
    flip, rotation ±15°, colour jitter 0.2; `strong` = scale 0.5-1, rotation ±30°, jitter 0.4."""
    from torchvision.transforms import v2

    if preset not in AUGMENT_PRESETS:
        raise CvtoolError(
            f"unknown augmentation preset {preset!r}; valid: {', '.join(AUGMENT_PRESETS)}"
        )
    if preset == "none":
        return []
    if preset == "flip":
        return [v2.RandomHorizontalFlip()]
    scale, degrees, jitter = (
        ((0.8, 1.0), 15, 0.2) if preset == "standard" else ((0.5, 1.0), 30, 0.4)
    )
    if output_size is None:
        raise ParameterError(
            f"augmentation preset {preset!r} needs a fixed image size",
            "augment",
            "set `crop` (N) or `size` (HxW)",
        )
    return [
        v2.RandomResizedCrop(list(output_size), scale=scale, antialias=True),
        v2.RandomHorizontalFlip(),
        v2.RandomRotation(degrees, fill=_fill()),
        v2.ColorJitter(brightness=jitter, contrast=jitter, saturation=jitter),
    ]


def train_transform(preprocess: Preprocess, preset: str = "none") -> JointTransform:
    """Deterministic preprocessing, then the augmentation preset, then normalisation."""
    steps = [*_deterministic(preprocess), *augmentation(preset, preprocess.output_size)]
    return JointTransform([*steps, *_to_float(preprocess)])
