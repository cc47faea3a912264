"""Detection calibration: hand-computed ECE, crowd handling, and seeded damage on real data."""

from __future__ import annotations

import numpy as np
import pytest
from detect_fixtures import TINY_PREDICTIONS, det

from cvtool.detect.calibration import detection_calibration
from cvtool.detect.cocodata import load_predictions
from cvtool.detect.matching import match_predictions
from cvtool.detect.scales import prediction_scales
from cvtool.synthetic.detections import Damage, damaged_predictions


def _calibration(gt, raw, n_bins=15):
    preds = load_predictions(raw, gt)
    match = match_predictions(preds, gt)
    return detection_calibration(preds, match, prediction_scales(preds, gt, match), n_bins)


def test_tiny_hand_computed(tiny_gt):
    # scores .95 .9 .8 .7 .95 -> right, right, wrong, right, right; each score its own bin
    # except the two .95s: gaps .05 (x2), .1, .8, .3.
    result = _calibration(tiny_gt, TINY_PREDICTIONS)
    assert result["all"].ece == pytest.approx((0.05 * 2 + 0.1 + 0.8 + 0.3) / 5)
    assert result["all"].mce == pytest.approx(0.8)
    assert result["all"].total == 5
    # small: the cat at .9 (right) and the false positive at .8 (its own box is small)
    assert result["small"].ece == pytest.approx((0.1 + 0.8) / 2)
    assert result["medium"].total == 2  # dog#2 and cat#3
    assert result["large"].total == 1


def test_predictions_inside_crowd_regions_are_left_out(tiny_gt):
    result = _calibration(tiny_gt, [*TINY_PREDICTIONS, det(2, 1, [75, 75, 20, 20], 0.6)])
    assert result["all"].total == 5


def test_no_predictions_in_a_scale_is_none(tiny_gt):
    result = _calibration(tiny_gt, TINY_PREDICTIONS[:1])
    assert result["small"] is None
    assert result["medium"].total == 1


def test_scores_outside_unit_interval_are_refused(tiny_gt):
    with pytest.raises(ValueError, match="not \\[0, 1\\]"):
        _calibration(tiny_gt, [det(1, 1, [10, 10, 20, 20], 3.5)])


@pytest.mark.realdata
def test_calibrated_scores_give_ece_near_zero(coco_gt):
    result = _calibration(coco_gt, damaged_predictions(coco_gt, Damage(score_mode="calibrated")))
    assert result["all"].ece < 0.01
    # The wrong ones are background boxes of random size, so only the whole set is calibrated;
    # the scales still partition it.
    assert sum(result[s].total for s in ("small", "medium", "large")) == result["all"].total


@pytest.mark.realdata
@pytest.mark.parametrize("gap", [0.05, 0.1])
def test_overconfident_scores_give_the_gap(coco_gt, gap):
    damage = Damage(score_mode="overconfident", overconfidence=gap)
    result = _calibration(coco_gt, damaged_predictions(coco_gt, damage))["all"]
    assert result.ece == pytest.approx(gap, abs=0.01)
    filled = result.count > 0
    np.testing.assert_allclose((result.mean_confidence - result.accuracy)[filled], gap, atol=0.03)
