"""Box geometry shared by the trackers and the scorers (boxes are `x, y, w, h`, top-left)."""

from __future__ import annotations

import numpy as np

_EPS = np.finfo(np.float64).eps


def corners(boxes: np.ndarray) -> np.ndarray:
    """(5, K) rows `x0, y0, x1, y1, area` of (K, 4) `x, y, w, h` boxes.

    Areas come from the corners, as in TrackEval's `_calculate_box_ious`, so IoUs built from
    these agree with TrackEval's to the bit and threshold ties fall the same way.
    """
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    x1, y1 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    return np.stack([b[:, 0], b[:, 1], x1, y1, (x1 - b[:, 0]) * (y1 - b[:, 1])])


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
    out = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    out[:, 2:] -= out[:, :2]
    return out
