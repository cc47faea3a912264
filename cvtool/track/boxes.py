"""Box geometry shared by the trackers and the scorers (boxes are `x, y, w, h`, top-left)."""

from __future__ import annotations

import numpy as np

_EPS = np.finfo(np.float64).eps


def iou_tlwh(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) intersection over union of (N, 4) and (M, 4) `x, y, w, h` boxes.

    The arithmetic follows TrackEval's `_calculate_box_ious` operation for operation (corners
    first, areas from corners), so scores agree to the bit and threshold ties fall the same way.
    Pairs with a zero-area box or an empty union get 0.
    """
    a = np.array(a, dtype=np.float64).reshape(-1, 4)
    b = np.array(b, dtype=np.float64).reshape(-1, 4)
    a[:, 2:] += a[:, :2]
    b[:, 2:] += b[:, :2]
    lo = np.minimum(a[:, None, :], b[None, :, :])
    hi = np.maximum(a[:, None, :], b[None, :, :])
    inter = np.maximum(lo[..., 2] - hi[..., 0], 0) * np.maximum(lo[..., 3] - hi[..., 1], 0)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    inter[area_a <= _EPS, :] = 0
    inter[:, area_b <= _EPS] = 0
    inter[union <= _EPS] = 0
    union[union <= _EPS] = 1
    return inter / union


def tlwh_to_xywh_center(boxes: np.ndarray) -> np.ndarray:
    """`x, y, w, h` (top-left) -> `cx, cy, w, h` (centre)."""
    out = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    out[:, :2] += out[:, 2:] / 2
    return out


def xyxy_to_tlwh(boxes: np.ndarray) -> np.ndarray:
    out = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    out[:, 2:] -= out[:, :2]
    return out
