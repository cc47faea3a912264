"""Apply a segmentation model to new images: probabilities at each image's own size, and the
files `predict` writes for them (index masks, colour overlays, confidence maps).

Whole images go through the model exactly as `evaluate` sends a split (the checkpoint's resize,
no centre crop, batches of equal-size images, logits upsampled bilinearly to the image size),
so the masks of a dataset's test images are the masks `evaluate --save-masks` writes.

`tile=True` is mmsegmentation's slide mode: after the resize, windows of the training input size
overlap by `overlap` of a window, each window's logits are added into the full map and divided
by how many windows covered each pixel. `tta=True` averages the logits of the image and of its
mirror image (flipped back).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.artifacts import ClassInfo
from cvtool.core.errors import ParameterError
from cvtool.core.images import write_index_png, write_rgb_png
from cvtool.core.inference import Inference, logits_to_probs, predict_batches
from cvtool.core.palette import class_colors, colorize
from cvtool.core.transforms import Preprocess, eval_transform

MASKS_DIR, OVERLAYS_DIR, CONFIDENCE_DIR = "masks", "overlays", "confidence"


@dataclass(frozen=True)
class SegmentOptions:
    """`tile`: sliding windows of `tile_size` (default: the training input size) overlapping
    by `overlap` (0 <= overlap < 1) of a window; `tta`: average with the mirrored image;
    `confidence`: also write the top-class probability as a greyscale PNG (0-255);
    `alpha`: the opacity of the class colours in the overlays."""

    tile: bool = False
    tile_size: tuple[int, int] | None = None
    overlap: float = 1 / 3
    tta: bool = False
    confidence: bool = False
    alpha: float = 0.5

    def window(self, preprocess: Preprocess) -> tuple[int, int]:
        window = self.tile_size or preprocess.output_size
        if window is None:
            raise ParameterError(
                "the model was trained without a fixed input size: give the window size",
                "tile_size",
            )
        return window


class FlipAverage:
    """A model whose logits are the mean of `model(x)` and `model(flip(x))` flipped back."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def to(self, device: Any) -> FlipAverage:
        self.model = self.model.to(device)
        return self

    def eval(self) -> FlipAverage:
        self.model = self.model.eval()
        return self

    def __call__(self, x: Any) -> Any:
        return (self.model(x) + self.model(x.flip(-1)).flip(-1)) / 2


def window_starts(length: int, window: int, stride: int) -> list[int]:
    """Window offsets along one axis, as mmsegmentation's slide inference places them: a
    regular grid, the last window moved back to end at the border."""
    count = max(length - window + stride - 1, 0) // stride + 1
    return sorted({max(min(i * stride, length - window), 0) for i in range(count)})


def slide_logits(
    model: Any, image: Any, window: tuple[int, int], overlap: float, run: Inference
) -> Any:
    """`(1, C, H, W)` logits of a normalised `(3, H, W)` image from overlapping windows (each
    zero-padded to the window size where the image is smaller), averaged by a count map."""
    import torch

    (h, w), (wh, ww) = image.shape[-2:], window
    strides = (max(1, math.ceil(wh * (1 - overlap))), max(1, math.ceil(ww * (1 - overlap))))
    boxes = [
        (y, x, min(y + wh, h), min(x + ww, w))
        for y in window_starts(h, wh, strides[0])
        for x in window_starts(w, ww, strides[1])
    ]
    total: Any = None
    count = torch.zeros((1, 1, h, w), device=image.device)
    for start in range(0, len(boxes), run.batch_size):
        chunk = boxes[start : start + run.batch_size]
        crops = [
            torch.nn.functional.pad(image[:, y0:y1, x0:x1], (0, ww - (x1 - x0), 0, wh - (y1 - y0)))
            for y0, x0, y1, x1 in chunk
        ]
        with torch.inference_mode(), torch.autocast(run.device.type, enabled=run.autocast):
            logits = model(torch.stack(crops)).float()
        if total is None:
            total = torch.zeros((1, logits.shape[1], h, w), device=image.device)
        for (y0, x0, y1, x1), window_logits in zip(chunk, logits, strict=True):
            total[0, :, y0:y1, x0:x1] += window_logits[:, : y1 - y0, : x1 - x0]
            count[0, :, y0:y1, x0:x1] += 1
    return total / count


def _upsampled(logits: Any, size: Sequence[int]) -> Any:
    import torch

    if tuple(logits.shape[-2:]) != tuple(size):
        logits = torch.nn.functional.interpolate(
            logits, size=tuple(size), mode="bilinear", align_corners=False
        )
    return logits


def segment_batches(
    model: Any,
    preprocess: Preprocess,
    samples: Iterable[tuple[Any, np.ndarray]],
    run: Inference,
    opts: SegmentOptions,
    calibration: dict[str, Any] | None = None,
) -> Iterator[tuple[list[tuple[Any, np.ndarray]], Any]]:
    """Yield `(samples, probabilities (B, C, H, W) on run.device)` for `(key, (3, H, W) uint8
    image)` samples, each image's probabilities at its own size."""
    import torch

    model = FlipAverage(model) if opts.tta else model
    p = preprocess
    transform = eval_transform(size=p.size, crop=None, mean=p.mean, std=p.std)

    def tensor(sample: tuple[Any, np.ndarray]) -> Any:
        return transform(torch.from_numpy(sample[1]).to(run.device))

    if opts.tile:
        window = opts.window(preprocess)
        model = model.to(run.device).eval()
        for sample in samples:
            logits = slide_logits(model, tensor(sample), window, opts.overlap, run)
            yield [sample], logits_to_probs(_upsampled(logits, sample[1].shape[1:]), calibration)
        return

    def image_shape(sample: tuple[Any, np.ndarray]) -> tuple[int, ...]:
        return sample[1].shape

    for group, logits in predict_batches(model, samples, tensor, run, image_shape):
        yield group, logits_to_probs(_upsampled(logits, group[0][1].shape[1:]), calibration)


def overlay(
    image_hwc: np.ndarray, mask: np.ndarray, colors: np.ndarray, alpha: float
) -> np.ndarray:
    """The image with the class colours of `mask` blended in at opacity `alpha`."""
    blend = image_hwc * (1 - alpha) + colorize(mask, colors).astype(np.float32) * alpha
    return np.round(blend).astype(np.uint8)


class MaskWriter:
    """Writes `masks/NAME.png` (class indices, the input's size), `overlays/NAME.png` and,
    when asked, `confidence/NAME.png` (top-class probability x 255) into `out`."""

    def __init__(self, out: Path, classes: Sequence[ClassInfo], opts: SegmentOptions) -> None:
        self.out, self.opts = out, opts
        self.colors = class_colors(classes)

    @staticmethod
    def split(probs: Any) -> tuple[np.ndarray, np.ndarray]:
        """`(predicted ids (B, H, W) uint8, top probability (B, H, W) float32)` on the CPU."""
        ids = probs.argmax(dim=1)  # the same call as evaluation
        return ids.cpu().numpy().astype(np.uint8), probs.amax(dim=1).cpu().numpy()

    def write(self, name: str, image_chw: np.ndarray, mask: np.ndarray, top: np.ndarray) -> None:
        write_index_png(self.out / MASKS_DIR / f"{name}.png", mask)
        image = image_chw.transpose(1, 2, 0)
        write_rgb_png(self.out / OVERLAYS_DIR / f"{name}.png", self.frame(image, mask))
        if self.opts.confidence:
            level = np.round(top * 255).astype(np.uint8)
            write_index_png(self.out / CONFIDENCE_DIR / f"{name}.png", level)

    def frame(self, image_hwc: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return overlay(image_hwc, mask, self.colors, self.opts.alpha)
