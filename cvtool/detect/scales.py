"""Object scales as COCO defines them: small < 32², medium < 96², large >= 96² pixels.

Ground truth takes its scale from its `area` field (the segmentation area in COCO files; the box
area where a file has no `area`). A prediction takes the scale of the object it is about, so that
a detection and its object always land in the same bucket even when the box area and the
segmentation area disagree: the object it matched at IoU 0.5, else the object of any class it
overlaps most if that IoU reaches the background threshold (0.1, TIDE's), else its own box area.
"""

from __future__ import annotations

import numpy as np

from cvtool.core.boxes import box_area
from cvtool.detect.cocodata import GroundTruth, Predictions
from cvtool.detect.matching import MatchResult

SCALES: dict[str, tuple[float, float]] = {
    "small": (0.0, 32.0**2),
    "medium": (32.0**2, 96.0**2),
    "large": (96.0**2, float("inf")),
}
BACKGROUND_IOU = 0.1
PREDICTION_SCALE_RULE = (
    "A prediction takes the scale of the object it matched at IoU 0.5, else of the object of any "
    "class it overlaps most if that IoU is >= 0.1, else of its own box area."
)


def scale_index(area: np.ndarray) -> np.ndarray:
    """0 small, 1 medium, 2 large."""
    edges = np.array([SCALES["medium"][0], SCALES["large"][0]])
    return np.searchsorted(edges, np.asarray(area, dtype=np.float64), side="right")


def ground_truth_scales(gt: GroundTruth) -> np.ndarray:
    return scale_index(gt.ann_area)


def prediction_scales(preds: Predictions, gt: GroundTruth, match: MatchResult) -> np.ndarray:
    gt_scale = ground_truth_scales(gt)
    own = scale_index(box_area(preds.box))
    near = np.where(match.nearest_iou >= BACKGROUND_IOU, match.nearest, -1)
    anchor = np.where(match.matched >= 0, match.matched, near)
    return np.where(anchor >= 0, gt_scale[np.maximum(anchor, 0)], own)
