"""The naive baseline: match detections to live tracks by IoU, nothing else.

Each frame, detections are matched to the tracks alive so far (their last matched box) by
IoU >= `min_iou`, greedily best pair first or optimally (`hungarian`). A matched track takes the
detection's box; an unmatched detection starts a new track; a track unmatched for more than
`max_lost` consecutive frames is dropped. Only tracks matched in the frame are reported.
"""

from __future__ import annotations

import numpy as np

from cvtool.core.boxes import iou_tlwh
from cvtool.track.config import IouTrackerConfig


def greedy_match(iou: np.ndarray, min_iou: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (rows, cols) taken best IoU first, each row and column at most once."""
    rows, cols = np.nonzero(iou >= min_iou)
    order = np.argsort(-iou[rows, cols], kind="stable")
    used_r: set[int] = set()
    used_c: set[int] = set()
    keep = []
    for k in order:  # candidate pairs only, not pixels: a few dozen per frame
        r, c = int(rows[k]), int(cols[k])
        if r not in used_r and c not in used_c:
            used_r.add(r)
            used_c.add(c)
            keep.append(k)
    keep_arr = np.asarray(keep, dtype=np.int64)
    return rows[keep_arr], cols[keep_arr]


def hungarian_match(iou: np.ndarray, min_iou: float) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-total-IoU assignment among pairs with IoU >= min_iou."""
    from scipy.optimize import linear_sum_assignment

    if iou.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    score = np.where(iou >= min_iou, iou, 0.0)
    rows, cols = linear_sum_assignment(-score)
    ok = score[rows, cols] > 0
    return rows[ok], cols[ok]


class IouTracker:
    """`update(boxes, scores)` per frame -> (M, 6) rows `id, x, y, w, h, score`; ids from 1."""

    def __init__(self, config: IouTrackerConfig | None = None) -> None:
        self.config = config or IouTrackerConfig()
        self.ids = np.empty(0, np.int64)
        self.boxes = np.empty((0, 4))
        self.lost = np.empty(0, np.int64)
        self.next_id = 1

    def update(self, boxes: np.ndarray, scores: np.ndarray) -> np.ndarray:
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        iou = iou_tlwh(self.boxes, boxes)
        match = hungarian_match if self.config.hungarian else greedy_match
        t_idx, d_idx = match(iou, self.config.min_iou)

        self.boxes[t_idx] = boxes[d_idx]
        self.lost += 1
        self.lost[t_idx] = 0
        alive = self.lost <= self.config.max_lost

        new = np.setdiff1d(np.arange(len(boxes)), d_idx)
        new_ids = np.arange(self.next_id, self.next_id + len(new))
        self.next_id += len(new)

        out_ids = np.concatenate([self.ids[t_idx], new_ids])
        out_det = np.concatenate([d_idx, new])
        self.ids = np.concatenate([self.ids[alive], new_ids])
        self.boxes = np.concatenate([self.boxes[alive], boxes[new]])
        self.lost = np.concatenate([self.lost[alive], np.zeros(len(new), np.int64)])
        return np.column_stack([out_ids, boxes[out_det], scores[out_det]])
