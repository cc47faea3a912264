"""IoU and greedy matching against pycocotools, the reference implementation."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from detect_fixtures import TINY_PREDICTIONS, det
from pycocotools import mask as mask_utils

from cvtool.core.boxes import box_iou
from cvtool.detect.cocodata import load_predictions
from cvtool.detect.matching import match_predictions
from cvtool.synthetic.detections import Damage, damaged_predictions


def test_box_iou_matches_pycocotools():
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.uniform(0, 50, (30, 2)), rng.uniform(0, 40, (30, 2))], axis=1)
    b = np.concatenate([rng.uniform(0, 50, (20, 2)), rng.uniform(0, 40, (20, 2))], axis=1)
    crowd = rng.random(20) < 0.3
    expected = mask_utils.iou(a.tolist(), b.tolist(), crowd.astype(np.uint8).tolist())
    np.testing.assert_allclose(box_iou(a, b, crowd), expected, rtol=1e-12, atol=1e-12)


def test_box_iou_exact_values():
    iou = box_iou(np.array([[0, 0, 10, 10]]), np.array([[5, 0, 10, 10], [0, 0, 0, 0]]))
    np.testing.assert_allclose(iou, [[50 / 150, 0.0]])


def test_tiny_matching(tiny_gt):
    preds = load_predictions([*TINY_PREDICTIONS, det(2, 1, [75, 75, 20, 20], 0.6)], tiny_gt)
    match = match_predictions(preds, tiny_gt)
    assert match.matched.tolist() == [1, 0, -1, 2, 3, -1]
    assert match.ignored.tolist() == [False] * 5 + [True]  # inside the crowd cat region


def test_greedy_takes_higher_score_first(tiny_gt):
    preds = load_predictions(
        [det(1, 1, [11, 10, 20, 20], 0.3), det(1, 1, [10, 10, 20, 20], 0.9)], tiny_gt
    )
    assert match_predictions(preds, tiny_gt).matched.tolist() == [-1, 0]


@pytest.mark.realdata
def test_matching_equals_cocoeval_at_iou_05(coco_gt):
    """COCOeval's own per-detection matches (IoU 0.5, no detection limit) are the oracle."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    damage = Damage(miss=0.1, swap=0.1, jitter=0.2, duplicate=0.2, background=0.3)
    raw = damaged_predictions(coco_gt, damage, seed=3)
    for i, d in enumerate(raw):  # some boxes that land right at the threshold
        if i % 7 == 0:
            d["bbox"] = [d["bbox"][0] + d["bbox"][2] / 3, *d["bbox"][1:]]
    preds = load_predictions(raw, coco_gt)
    ours = match_predictions(preds, coco_gt, 0.5)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = coco_gt.coco_dataset()
        gt.createIndex()
        dt = gt.loadRes(preds.to_coco())
        ev = COCOeval(gt, dt, "bbox")
        ev.params.iouThrs = np.array([0.5])
        ev.params.maxDets = [10_000]
        ev.params.areaRng, ev.params.areaRngLbl = [ev.params.areaRng[0]], ["all"]
        ev.evaluate()
    ann_index = {int(a["id"]): k for k, a in enumerate(coco_gt.dataset["annotations"])}
    matched = np.full(len(preds), -1)
    ignored = np.zeros(len(preds), bool)
    for img in ev.evalImgs:
        if img is None:
            continue
        for dt_id, gt_id, ig in zip(
            img["dtIds"], img["dtMatches"][0], img["dtIgnore"][0], strict=True
        ):
            k = dt_id - 1  # loadRes numbers results from 1 in order
            if ig:
                ignored[k] = True
            elif gt_id:
                matched[k] = ann_index[int(gt_id)]
    assert (ours.matched >= 0).sum() > 300
    np.testing.assert_array_equal(ours.matched, matched)
    np.testing.assert_array_equal(ours.ignored, ignored)
