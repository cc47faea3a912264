"""Per-class loss weights: given by the user, or computed from the training labels (`auto`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cvtool.core.errors import CvtoolError


def median_frequency_weights(pixels: Sequence[int], image_pixels: Sequence[int]) -> list[float]:
    """SegNet's median frequency balancing: `w_c = median(f) / f_c`, `f_c` = pixels of class c
    / pixels of the images containing c. Classes never seen get weight 0."""
    pixels_a = np.asarray(pixels, dtype=np.float64)
    freq = pixels_a / np.maximum(np.asarray(image_pixels, dtype=np.float64), 1)
    seen = pixels_a > 0
    if not seen.any():
        raise CvtoolError("cannot compute class weights: the training masks have no labels")
    median = float(np.median(freq[seen]))
    return np.where(seen, median / np.maximum(freq, 1e-12), 0.0).tolist()


def balanced_weights(counts: Sequence[int]) -> list[float]:
    """sklearn's 'balanced' weights `n / (k * n_c)` for per-image labels; 0 for absent classes."""
    c = np.asarray(counts, dtype=np.float64)
    present = c > 0
    return np.where(present, c.sum() / (present.sum() * np.maximum(c, 1)), 0.0).tolist()


def class_weights(option: str | None, stats: Any, segmentation: bool, k: int) -> list[float] | None:
    """The weights `option` asks for: None, `auto` (from the label statistics `stats`: median
    frequency for segmentation, balanced for classification) or `k` comma-separated numbers."""
    if option is None:
        return None
    if option == "auto":
        if segmentation:
            return median_frequency_weights(stats.pixels, stats.image_pixels)
        return balanced_weights(stats.pixels)
    try:
        weights = [float(v) for v in option.split(",")]
    except ValueError:
        weights = []
    if len(weights) != k or any(w < 0 for w in weights):
        raise CvtoolError(
            f"class_weights needs 'auto' or {k} non-negative numbers (one per class), "
            f"got {option!r}",
            param="class_weights",
        )
    return weights
