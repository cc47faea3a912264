"""Greedy matching of predictions to ground truth, image by image, as COCOeval does it.

Within an image, predictions are taken in descending score (stable for ties); each takes the
unmatched non-crowd object of its class with the highest IoU, if that IoU reaches the threshold.
A prediction left unmatched that lies inside a crowd region of its class is ignored, not wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cvtool.core.boxes import box_iou
from cvtool.detect.cocodata import GroundTruth, Predictions


@dataclass
class MatchResult:
    """Per prediction: the matched ground-truth index (-1 if none), whether it is ignored
    (inside a crowd region), and the non-crowd object of any class it overlaps most."""

    matched: np.ndarray
    ignored: np.ndarray
    nearest: np.ndarray
    nearest_iou: np.ndarray

    @property
    def correct(self) -> np.ndarray:
        return self.matched >= 0


def _slices(keys: np.ndarray) -> dict[int, slice]:
    """`keys` sorted: value -> slice of its run."""
    values, starts = np.unique(keys, return_index=True)
    ends = np.append(starts[1:], len(keys))[: len(starts)]
    return {int(v): slice(s, e) for v, s, e in zip(values, starts, ends, strict=True)}


def match_predictions(
    preds: Predictions, gt: GroundTruth, iou_threshold: float = 0.5
) -> MatchResult:
    n = len(preds)
    matched = np.full(n, -1, np.int64)
    ignored = np.zeros(n, bool)
    nearest = np.full(n, -1, np.int64)
    nearest_iou = np.zeros(n, np.float64)
    order = np.lexsort((-preds.score, preds.image_id))
    gt_order = np.argsort(gt.ann_image, kind="stable")
    gt_slices = _slices(gt.ann_image[gt_order])
    for image, sl in _slices(preds.image_id[order]).items():
        p_idx = order[sl]
        g_idx = gt_order[gt_slices[image]] if image in gt_slices else np.empty(0, np.int64)
        _match_image(preds, gt, p_idx, g_idx, iou_threshold, matched, ignored, nearest, nearest_iou)
    return MatchResult(matched, ignored, nearest, nearest_iou)


def _match_image(
    preds: Predictions,
    gt: GroundTruth,
    p_idx: np.ndarray,
    g_idx: np.ndarray,
    threshold: float,
    matched: np.ndarray,
    ignored: np.ndarray,
    nearest: np.ndarray,
    nearest_iou: np.ndarray,
) -> None:
    crowd = gt.ann_crowd[g_idx]
    solid, regions = g_idx[~crowd], g_idx[crowd]
    if len(solid):
        iou = box_iou(preds.box[p_idx], gt.ann_box[solid])
        best = iou.argmax(axis=1)
        nearest[p_idx] = solid[best]
        nearest_iou[p_idx] = iou[np.arange(len(p_idx)), best]
        same = preds.category_id[p_idx][:, None] == gt.ann_category[solid][None, :]
        candidates = np.where(same & (iou >= threshold), iou, -1.0)
        free = np.ones(len(solid), bool)
        for row in np.flatnonzero(candidates.max(axis=1) >= 0):
            scores = np.where(free, candidates[row], -1.0)
            j = int(scores.argmax())
            if scores[j] >= 0:
                free[j] = False
                matched[p_idx[row]] = solid[j]
    if len(regions):
        unmatched = p_idx[matched[p_idx] < 0]
        cover = box_iou(preds.box[unmatched], gt.ann_box[regions], np.ones(len(regions), bool))
        same = preds.category_id[unmatched][:, None] == gt.ann_category[regions][None, :]
        ignored[unmatched] = (same & (cover >= threshold)).any(axis=1)
