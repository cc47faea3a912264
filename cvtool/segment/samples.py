"""Per-image loading for `parallel_map` workers: decode and check, nothing else.

No torch here: the workers are forked from a process whose torch thread pools are running, and
torch operations in such a child can deadlock.
"""

from __future__ import annotations

import numpy as np

from cvtool.core.cache import CacheItem
from cvtool.core.errors import CvtoolError
from cvtool.core.images import check_same_size, read_mask, read_rgb
from cvtool.segment.split import SplitItem


def load_labelled_image(
    item: SplitItem | CacheItem, num_classes: int, ignore_index: int
) -> tuple[np.ndarray, np.ndarray]:
    """`(image (H, W, 3) uint8, label mask (H, W) uint8)` of one item, same size, writable."""
    assert item.mask is not None
    image = read_rgb(item.image)
    mask = read_mask(item.mask, num_classes, ignore_index)
    check_same_size(item.mask, mask.shape, item.image, image.shape[:2])
    return image, np.array(mask)


def load_prediction_pair(
    item: SplitItem, num_classes: int, ignore_index: int
) -> tuple[np.ndarray, np.ndarray]:
    """`(label mask, predicted mask)` of one split item, checked to have the same size and a
    class for every predicted pixel."""
    if item.prediction is None:
        raise ValueError(f"{item.name} has no predicted mask")
    mask = read_mask(item.mask, num_classes, ignore_index)
    pred = read_mask(item.prediction, num_classes, ignore_index)
    unassigned = int((pred == ignore_index).sum())
    if unassigned:
        raise CvtoolError(
            f"predicted mask {item.prediction} leaves {unassigned} pixels at the ignore index "
            f"{ignore_index}",
            "a prediction must give every pixel a class id",
        )
    if pred.shape != mask.shape:
        raise CvtoolError(
            f"predicted mask {item.prediction} is {_size(pred)} but the label mask "
            f"{item.mask} is {_size(mask)}",
            "predict at the label masks' resolution (resize with nearest interpolation)",
        )
    return np.array(mask), np.array(pred)  # writable copies, for torch


def _size(array: np.ndarray) -> str:
    return f"{array.shape[1]}x{array.shape[0]}"
