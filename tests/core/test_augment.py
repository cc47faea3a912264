"""Augmentation: torchvision's parameter draws and geometry, one uint8 pass on the CPU, and the
batched device path with the same semantics (run here on CPU tensors)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from cvtool.core.augment import (
    PRESETS,
    AugmentParams,
    augment_sample,
    jitter_image,
    sample_params,
)
from cvtool.core.batch_augment import BatchAugment, jitter_batch, warp_batch
from cvtool.core.transforms import JointTransform, Preprocess, eval_transform, to_float

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _pair(h: int = 40, w: int = 52, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A smooth uint8 image (bilinear sampling is then well conditioned) and a blocky mask."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (3, h // 4, w // 4)).astype(np.float32)
    image = torch.nn.functional.interpolate(torch.from_numpy(coarse)[None], (h, w), mode="bicubic")
    image = image[0].clamp(0, 255).round().to(torch.uint8)
    mask = torch.from_numpy(rng.integers(0, 3, (h // 8, w // 8)).astype(np.uint8))
    mask = mask.repeat_interleave(8, 0).repeat_interleave(8, 1)[:h, :w]
    mask = torch.nn.functional.pad(mask, (0, w - mask.shape[1], 0, h - mask.shape[0]))
    return image, mask


def test_rotation_fills_mask_with_ignore_index() -> None:
    image = torch.full((3, 20, 20), 100, dtype=torch.uint8)
    image_out, mask_out = augment_sample(
        image, torch.ones(20, 20, dtype=torch.uint8), AugmentParams(angle=45.0), (20, 20)
    )
    assert mask_out[0, 0] == 255 and mask_out[10, 10] == 1
    assert set(mask_out.unique().tolist()) == {1, 255}
    assert image_out[0, 0, 0] == 0 and image_out[0, 10, 10] == 100


@pytest.mark.parametrize("seed", range(5))
def test_parameters_are_torchvisions_draws(seed: int) -> None:
    size = (36, 48)
    torch.manual_seed(seed)
    ours = sample_params(PRESETS["standard"], size)
    torch.manual_seed(seed)
    probe = [torch.zeros(3, *size)]
    crop = v2.RandomResizedCrop(list(size), scale=(0.8, 1.0)).make_params(probe)
    flip = bool(torch.rand(1) < 0.5)
    angle = v2.RandomRotation(15).make_params(probe)["angle"]
    jitter = v2.ColorJitter(0.2, 0.2, 0.2).make_params(probe)
    assert ours.crop == (crop["top"], crop["left"], crop["height"], crop["width"])
    assert ours.flip == flip and ours.angle == angle
    factors = [jitter[f"{n}_factor"] for n in ("brightness", "contrast", "saturation")]
    expected = [(i, factors[i]) for i in jitter["fn_idx"].tolist() if i != 3]
    assert list(ours.jitter) == expected


def _agreement(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a == b).float().mean())


def test_geometry_is_torchvisions() -> None:
    """Crop + resize and rotation sample where torchvision's transforms do. Masks are sampled
    at pixel centres, like the image (torchvision's `NEAREST_EXACT`; its `NEAREST`, the
    default for masks, is half a pixel off the bilinear image)."""
    image, mask = _pair()
    crop = AugmentParams(crop=(3, 5, 30, 40))
    _, ours = augment_sample(image, mask, crop, (40, 52))
    exact = F.InterpolationMode.NEAREST_EXACT
    theirs = F.resized_crop(mask[None], 3, 5, 30, 40, [40, 52], exact)[0]
    assert _agreement(ours, theirs) > 0.99
    _, ours = augment_sample(image, mask, AugmentParams(angle=10.0), (40, 52))
    theirs = F.rotate(tv_tensors.Mask(mask[None]), 10.0, fill=255)[0]
    assert _agreement(ours, theirs) > 0.97


def test_flip_preset_equals_torchvisions_pipeline() -> None:
    """The demo's preset: the same draws and bit-identical tensors as the v2 pipeline."""
    image, mask = _pair()
    ours = JointTransform(Preprocess(), "flip")
    theirs = v2.Compose(
        [
            v2.RandomHorizontalFlip(),
            v2.ToDtype({tv_tensors.Image: torch.float32, "others": None}, scale=True),
            v2.Normalize(MEAN, STD),
        ]
    )
    for seed in range(4):
        torch.manual_seed(seed)
        a_image, a_mask = ours(image, mask)
        torch.manual_seed(seed)
        b_image, b_mask = theirs(tv_tensors.Image(image), tv_tensors.Mask(mask))
        assert torch.equal(a_image, b_image) and torch.equal(a_mask, b_mask.long())


def test_jitter_cpu_and_batched_agree() -> None:
    image, _ = _pair()
    params = [AugmentParams(jitter=((2, 1.3), (0, 0.85), (1, 1.15)))]
    cpu = jitter_image(image.permute(1, 2, 0).numpy().copy(), params[0].jitter)
    batched = jitter_batch(image[None].float() / 255, params)[0]
    diff = (torch.from_numpy(cpu).permute(2, 0, 1).float() / 255 - batched).abs()
    assert float(diff.max()) <= 2.5 / 255


@pytest.mark.parametrize("preset", ["flip", "standard", "strong"])
def test_batched_path_matches_the_cpu_path(preset: str) -> None:
    """Same seed, same draws: masks agree but for a few nearest-neighbour ties; images agree
    to the uint8 rounding of the CPU path."""
    pairs = [_pair(seed=s) for s in range(6)]
    pre = Preprocess((40, 52), None)
    torch.manual_seed(1)
    cpu = [JointTransform(pre, preset)(image, mask) for image, mask in pairs]
    torch.manual_seed(1)
    augment = BatchAugment(PRESETS[preset], (40, 52), MEAN, STD)
    images = torch.stack([p[0] for p in pairs])
    batch_images, batch_masks = augment(images, torch.stack([p[1] for p in pairs]), True)
    std = torch.tensor(STD).view(3, 1, 1)
    for (cpu_image, cpu_mask), image, mask in zip(cpu, batch_images, batch_masks, strict=True):
        assert mask.dtype == torch.long and _agreement(cpu_mask, mask) > 0.99
        diff = ((cpu_image - image) * std).abs()  # in [0, 1] units
        assert float(diff.mean()) < 1 / 255 and float(diff.quantile(0.99)) < 4 / 255
        if preset == "flip":
            assert torch.equal(cpu_mask, mask) and float(diff.max()) < 1e-6


def test_batched_validation_is_the_eval_transform() -> None:
    pairs = [_pair(seed=s) for s in range(3)]
    augment = BatchAugment(PRESETS["standard"], (40, 52), MEAN, STD)
    images, masks = augment(
        torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs]), False
    )
    for (image, mask), out_image, out_mask in zip(pairs, images, masks, strict=True):
        expected_image, expected_mask = eval_transform()(image, mask)
        assert torch.equal(out_image, expected_image) and torch.equal(out_mask, expected_mask)


def test_warp_batch_of_identity_is_exact() -> None:
    image, mask = _pair()
    images, masks = warp_batch(
        image[None].float(), mask[None], [AugmentParams(flip=True)], (40, 52)
    )
    assert torch.equal(masks[0], mask.flip(-1).long())
    assert float((images[0] - image.flip(-1).float()).abs().max()) < 1e-3


def test_to_float_is_torchvisions_todtype_and_normalize() -> None:
    image, _ = _pair()
    expected = F.normalize(F.to_dtype(image, torch.float32, scale=True), list(MEAN), list(STD))
    assert torch.equal(
        to_float(image.permute(1, 2, 0).contiguous().permute(2, 0, 1), MEAN, STD), expected
    )
