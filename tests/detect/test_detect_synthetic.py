"""The simulated detector is seeded and does what each damage says."""

from __future__ import annotations

import numpy as np
import pytest

from cvtool.core.boxes import box_iou
from cvtool.synthetic.detections import Damage, damaged_predictions


def test_same_seed_same_predictions(tiny_gt):
    a = damaged_predictions(tiny_gt, Damage.demo(), seed=4)
    assert a == damaged_predictions(tiny_gt, Damage.demo(), seed=4)


def test_no_damage_is_the_ground_truth(tiny_gt):
    preds = damaged_predictions(tiny_gt, Damage(), seed=0)
    solid = ~tiny_gt.ann_crowd
    assert [p["bbox"] for p in preds] == tiny_gt.ann_box[solid].tolist()
    assert [p["category_id"] for p in preds] == tiny_gt.ann_category[solid].tolist()


@pytest.mark.realdata
def test_background_boxes_touch_nothing(coco_gt):
    preds = damaged_predictions(coco_gt, Damage(miss=1.0, background=0.5), seed=1)
    assert len(preds) > 250
    for p in preds:
        others = coco_gt.ann_box[coco_gt.ann_image == p["image_id"]]
        assert box_iou(np.array([p["bbox"]]), others).max(initial=0) == 0


@pytest.mark.realdata
def test_jitter_lands_in_the_loc_band(coco_gt):
    preds = damaged_predictions(coco_gt, Damage(jitter=1.0), seed=2)
    solid = np.flatnonzero(~coco_gt.ann_crowd)
    iou = np.array(
        [
            box_iou(np.array([p["bbox"]]), coco_gt.ann_box[[i]])[0, 0]
            for p, i in zip(preds, solid, strict=True)
        ]
    )
    assert ((iou > 0.19) & (iou < 0.41)).all()
