"""TIDE error breakdown (tidecv) overall and per object scale, without tidecv's traps.

tidecv's own COCO loader needs a `segmentation` on every object even for box evaluation, and it
averages AP over every class a prediction mentions, so a class absent from the ground truth adds a
zero and lowers the mean. Here the tidecv `Data` objects are built from the checked arrays (boxes
only), and the mean is taken over the classes with objects in the evaluated subset, the ones COCO
averages over. A prediction of another class still counts: as a class error when it sits on an
object, as background otherwise. Values are in AP points (0-100), as in TIDE.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from cvtool.core.headline import TIDE_ERRORS
from cvtool.detect.cocodata import GroundTruth, Predictions
from cvtool.detect.scales import SCALES

MAIN_ERRORS = TIDE_ERRORS  # in the order of the detection headline's dAP columns
SPECIAL_ERRORS = ("FalsePos", "FalseNeg")
MAX_DETS = 100  # per image, as tidecv's COCO loader sets it


@dataclass
class TideResult:
    ap50: float
    main: dict[str, float]
    special: dict[str, float]
    counts: dict[str, int]
    num_ground_truth: int
    num_predictions: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "ap50": self.ap50,
            "main_errors": self.main,
            "special_errors": self.special,
            "error_counts": self.counts,
            "num_ground_truth": self.num_ground_truth,
            "num_predictions": self.num_predictions,
        }


def tide_evaluate(
    gt: GroundTruth, preds: Predictions, gt_keep: np.ndarray, pred_keep: np.ndarray
) -> TideResult | None:
    """TIDE on the kept non-crowd objects (crowd regions always stay as ignore regions) and the
    kept predictions; None when no object is kept (TIDE has no AP to decompose then)."""
    from tidecv import TIDE, Data

    solid = gt_keep & ~gt.ann_crowd
    if not solid.any():
        return None
    gt_data, pred_data = Data("ground truth", max_dets=MAX_DETS), Data("predictions")
    for cat_id, name in gt.categories.items():
        gt_data.add_class(cat_id, name)
    for image in gt.image_ids.tolist():
        gt_data.add_image(image, str(image))
    for i in np.flatnonzero(solid | gt.ann_crowd):
        image, cat, box = int(gt.ann_image[i]), int(gt.ann_category[i]), gt.ann_box[i].tolist()
        if gt.ann_crowd[i]:
            gt_data.add_ignore_region(image, cat, box)
        else:
            gt_data.add_ground_truth(image, cat, box)
    for i in np.flatnonzero(pred_keep):
        pred_data.add_detection(
            int(preds.image_id[i]),
            int(preds.category_id[i]),
            float(preds.score[i]),
            preds.box[i].tolist(),
        )
    import matplotlib

    with matplotlib.rc_context():  # TIDE() applies a global seaborn style; keep it to itself
        tide = TIDE(mode=TIDE.BOX)
    try:
        with _mean_over(set(gt.ann_category[solid].tolist())):
            run = tide.evaluate(gt_data, pred_data, name="predictions")
            errors = tide.get_all_errors()
        main = {k: float(errors["main"]["predictions"][k]) for k in MAIN_ERRORS}
        special = {k: float(errors["special"]["predictions"][k]) for k in SPECIAL_ERRORS}
    except ZeroDivisionError:
        # No detection was scored (none given, or all inside crowd regions): tidecv divides by
        # zero when fixing the misses leaves nothing. AP50 is 0 and all of it is missed objects.
        main = {k: 100.0 if k == "Miss" else 0.0 for k in MAIN_ERRORS}
        special = {"FalsePos": 0.0, "FalseNeg": 100.0}
    counts = {err.short_name: n for err, n in run.count_errors().items()}
    return TideResult(
        ap50=float(run.ap),
        main=main,
        special=special,
        counts={k: int(counts[k]) for k in MAIN_ERRORS},
        num_ground_truth=int(solid.sum()),
        num_predictions=int(pred_keep.sum()),
    )


@contextmanager
def _mean_over(classes: set[int]) -> Iterator[None]:
    """Make tidecv average AP over `classes` only (skipping empty ones, as tidecv does).

    tidecv builds its AP tables through the name `ClassedAPDataObject` in `tidecv.quantify`;
    it is swapped for a subclass for the duration of one evaluation and then restored. With no
    prediction outside `classes` the result is exactly tidecv's.
    """
    from tidecv import quantify
    from tidecv.ap import ClassedAPDataObject

    class ScoredClassesAP(ClassedAPDataObject):
        def get_mAP(self) -> float:
            aps = [o.get_ap() for k, o in self.objs.items() if k in classes and not o.is_empty()]
            return sum(aps) / len(aps)

    original = quantify.ClassedAPDataObject
    quantify.ClassedAPDataObject = ScoredClassesAP
    try:
        yield
    finally:
        quantify.ClassedAPDataObject = original


def tide_by_scale(
    gt: GroundTruth, preds: Predictions, gt_scales: np.ndarray, pred_scales: np.ndarray
) -> dict[str, TideResult | None]:
    """TIDE for all objects and for each scale (see `scales.py` for how predictions are split)."""
    every_object, every_prediction = np.ones(len(gt_scales), bool), np.ones(len(preds), bool)
    results = {"all": tide_evaluate(gt, preds, every_object, every_prediction)}
    for i, name in enumerate(SCALES):
        results[name] = tide_evaluate(gt, preds, gt_scales == i, pred_scales == i)
    return results
