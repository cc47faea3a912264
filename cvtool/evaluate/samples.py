"""Per-image loading for `parallel_map` workers: decode and check, nothing else."""

from __future__ import annotations

import numpy as np

from cvtool.data.images import read_rgb
from cvtool.errors import CvtoolError
from cvtool.evaluate.split import SplitItem, read_index_mask

NO_IGNORE = -1  # predictions may only hold class ids


def load_labelled_image(
    item: SplitItem, num_classes: int, ignore_index: int
) -> tuple[np.ndarray, np.ndarray]:
    """`(image (H, W, 3) uint8, label mask (H, W) uint8)` of one split item, same size."""
    image = read_rgb(item.image)
    mask = read_index_mask(item.mask, num_classes, ignore_index, "label mask")
    if image.shape[:2] != mask.shape:
        raise CvtoolError(
            f"label mask {item.mask} is {_size(mask)} but its image {item.image} is {_size(image)}"
        )
    return image, mask


def load_prediction_pair(
    item: SplitItem, num_classes: int, ignore_index: int
) -> tuple[np.ndarray, np.ndarray]:
    """`(label mask, predicted mask)` of one split item, checked to have the same size."""
    assert item.prediction is not None
    mask = read_index_mask(item.mask, num_classes, ignore_index, "label mask")
    pred = read_index_mask(item.prediction, num_classes, NO_IGNORE, "predicted mask")
    if pred.shape != mask.shape:
        raise CvtoolError(
            f"predicted mask {item.prediction} is {_size(pred)} but the label mask "
            f"{item.mask} is {_size(mask)}",
            "predict at the label masks' resolution (resize with nearest interpolation)",
        )
    return mask, pred


def _size(array: np.ndarray) -> str:
    return f"{array.shape[1]}x{array.shape[0]}"
