"""Box geometry for every task. Boxes are `x, y, w, h` with a top-left origin.

Two IoU conventions live here on purpose: `box_iou` is COCO's (areas `w * h`, crowd boxes cover
what lies inside them) and matches pycocotools' `bbIou`; `iou_tlwh` is MOTChallenge's (areas from
the corners, with TrackEval's epsilon guards) and matches TrackEval to the bit.
"""

from __future__ import annotations

import numpy as np


def box_area(boxes: np.ndarray) -> np.ndarray:
    """`w * h` of xywh boxes (COCO's box area)."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return b[:, 2] * b[:, 3]


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """`x, y, w, h` (top-left) -> `x0, y0, x1, y1`."""
    out = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    out[:, 2:] += out[:, :2]
    return out


def box_iou(
    boxes_a: np.ndarray, boxes_b: np.ndarray, crowd_b: np.ndarray | None = None
) -> np.ndarray:
    """IoU matrix `[len(a), len(b)]` of xywh boxes.

    For a crowd box in `b` the denominator is the area of the `a` box alone, as in COCO, so a
    detection lying inside a crowd region counts as covered by it.
    """
    a, b = xywh_to_xyxy(boxes_a), xywh_to_xyxy(boxes_b)
    iw = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    ih = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    area_a = box_area(boxes_a)[:, None]
    area_b = box_area(boxes_b)[None, :]
    union = area_a + area_b - inter
    if crowd_b is not None:
        union = np.where(np.asarray(crowd_b, dtype=bool)[None, :], area_a, union)
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


_EPS = np.finfo(np.float64).eps


def corners(boxes: np.ndarray) -> np.ndarray:
    """(5, K) rows `x0, y0, x1, y1, area` of (K, 4) `x, y, w, h` boxes.

    Areas come from the corners, as in TrackEval's `_calculate_box_ious`, so IoUs built from
    these agree with TrackEval's to the bit and threshold ties fall the same way.
    """
    x0, y0, x1, y1 = xywh_to_xyxy(boxes).T
    return np.stack([x0, y0, x1, y1, (x1 - x0) * (y1 - y0)])


def iou_pairs(ca: np.ndarray, cb: np.ndarray) -> np.ndarray:
    """Element-wise IoU of (5, K) corner arrays (column i of `ca` with column i of `cb`).

    Pairs with a zero-area box or an empty union get 0.
    """
    iw = np.minimum(ca[2], cb[2]) - np.maximum(ca[0], cb[0])
    ih = np.minimum(ca[3], cb[3]) - np.maximum(ca[1], cb[1])
    inter = np.maximum(iw, 0) * np.maximum(ih, 0)
    union = ca[4] + cb[4] - inter
    inter[(ca[4] <= _EPS) | (cb[4] <= _EPS) | (union <= _EPS)] = 0
    union[union <= _EPS] = 1
    return inter / union


def iou_tlwh(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) IoU matrix of (N, 4) and (M, 4) `x, y, w, h` boxes."""
    ca, cb = corners(a), corners(b)
    n, m = ca.shape[1], cb.shape[1]
    return iou_pairs(np.repeat(ca, m, axis=1), np.tile(cb, (1, n))).reshape(n, m)


def tlwh_to_xywh_center(boxes: np.ndarray) -> np.ndarray:
    """`x, y, w, h` (top-left) -> `cx, cy, w, h` (centre)."""
    out = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    out[:, :2] += out[:, 2:] / 2
    return out


def xyxy_to_tlwh(boxes: np.ndarray) -> np.ndarray:
    """`x0, y0, x1, y1` -> `x, y, w, h` (top-left)."""
    out = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    out[:, 2:] -= out[:, :2]
    return out
