"""Box IoU on COCO `[x, y, width, height]` boxes, vectorised like pycocotools' `bbIou`."""

from __future__ import annotations

import numpy as np


def box_iou(
    boxes_a: np.ndarray, boxes_b: np.ndarray, crowd_b: np.ndarray | None = None
) -> np.ndarray:
    """IoU matrix `[len(a), len(b)]` of xywh boxes.

    For a crowd box in `b` the denominator is the area of the `a` box alone, as in COCO, so a
    detection lying inside a crowd region counts as covered by it.
    """
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.minimum(ax2[:, None], bx2[None, :]) - np.maximum(a[:, None, 0], b[None, :, 0])
    ih = np.minimum(ay2[:, None], by2[None, :]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    area_a = (a[:, 2] * a[:, 3])[:, None]
    area_b = (b[:, 2] * b[:, 3])[None, :]
    union = area_a + area_b - inter
    if crowd_b is not None:
        union = np.where(np.asarray(crowd_b, dtype=bool)[None, :], area_a, union)
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
