"""TIDE: equal to tidecv run directly, its traps handled, and each damage raises its own error."""

from __future__ import annotations

import numpy as np
import pytest
from detect_fixtures import TINY_CAT_AP, TINY_MAP, TINY_PREDICTIONS, det, tiny_dataset, write_json

from cvtool.detect.cocodata import load_ground_truth, load_predictions
from cvtool.detect.matching import match_predictions
from cvtool.detect.scales import ground_truth_scales, prediction_scales
from cvtool.detect.tide import MAIN_ERRORS, tide_by_scale, tide_evaluate
from cvtool.synthetic.detections import Damage, damaged_predictions


def _tide(gt, raw):
    preds = load_predictions(raw, gt)
    scales = prediction_scales(preds, gt, match_predictions(preds, gt))
    return tide_by_scale(gt, preds, ground_truth_scales(gt), scales)


def _tidecv_direct(annotations, predictions_path):
    from tidecv import TIDE, datasets

    tide = TIDE()
    tide.evaluate(datasets.COCO(str(annotations)), datasets.COCOResult(str(predictions_path)),
                  mode=TIDE.BOX, name="run")  # fmt: skip
    run = tide.runs["run"]
    errors = tide.get_all_errors()
    return run.ap, errors["main"]["run"], errors["special"]["run"]


def test_tiny_hand_computed(tiny_gt):
    res = _tide(tiny_gt, TINY_PREDICTIONS)["all"]
    assert res.ap50 == pytest.approx(100 * TINY_MAP)
    # Fixing the one background false positive makes the cat AP 1.
    assert res.main["Bkg"] == pytest.approx(100 * (1 - TINY_MAP))
    assert res.counts == {"Cls": 0, "Loc": 0, "Both": 0, "Dupe": 0, "Bkg": 1, "Miss": 0}
    assert TINY_CAT_AP < 1


def test_boxes_only_ground_truth(tmp_path, tiny_gt):
    """tidecv's own loader raises KeyError('segmentation'); ours evaluates boxes only."""
    from tidecv import datasets

    path = write_json(tmp_path / "boxes_only.json", tiny_dataset())
    with pytest.raises(KeyError, match="segmentation"):
        datasets.COCO(str(path))
    res = _tide(load_ground_truth(path), TINY_PREDICTIONS)["all"]
    assert res.ap50 == pytest.approx(100 * TINY_MAP)


def test_categories_absent_from_ground_truth_do_not_lower_ap(tiny_gt):
    """tidecv alone would average in a zero AP for 'bird' (no objects) and category 17."""
    extra = [det(1, 3, [0, 60, 10, 10], 0.99), det(2, 17, [0, 0, 10, 10], 0.99)]
    res = _tide(tiny_gt, [*TINY_PREDICTIONS, *extra])["all"]
    assert res.ap50 == pytest.approx(100 * TINY_MAP)


def test_scale_without_objects_is_none(tiny_gt):
    gt = tiny_gt
    keep_none = np.zeros(len(gt.ann_area), bool)
    preds = load_predictions(TINY_PREDICTIONS, gt)
    assert tide_evaluate(gt, preds, keep_none, np.ones(len(preds), bool)) is None


def test_no_predictions_is_all_miss(tiny_gt):
    res = _tide(tiny_gt, [])["all"]
    assert res.ap50 == 0
    assert res.main == {k: 100.0 if k == "Miss" else 0.0 for k in MAIN_ERRORS}
    assert res.special == {"FalsePos": 0.0, "FalseNeg": 100.0}


@pytest.mark.realdata
@pytest.mark.parametrize("seed", [0, 1])
def test_equals_tidecv_direct(coco_gt, coco_annotations, tmp_path, seed):
    path = write_json(tmp_path / "p.json", damaged_predictions(coco_gt, Damage.demo(), seed))
    ap, main, special = _tidecv_direct(coco_annotations, path)
    ours = _tide(coco_gt, damaged_predictions(coco_gt, Damage.demo(), seed))["all"]
    assert ours.ap50 == pytest.approx(ap, abs=1e-9)
    assert ours.main == pytest.approx(main, abs=1e-9)
    assert ours.special == pytest.approx(special, abs=1e-9)
    assert min(ours.main[k] for k in ("Cls", "Loc", "Miss")) > 1


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize(
    ("damage", "raised"),
    [
        (Damage(swap=0.3), "Cls"),
        (Damage(jitter=0.3), "Loc"),
        (Damage(duplicate=0.4), "Dupe"),
        (Damage(background=1.0), "Bkg"),
        (Damage(miss=0.3), "Miss"),
    ],
)
def test_each_damage_raises_its_error(coco_gt, damage, raised):
    results = _tide(coco_gt, damaged_predictions(coco_gt, damage, seed=0))
    for scale, res in results.items():
        assert res.main[raised] > 0.5, scale
        others = {k: v for k, v in res.main.items() if k != raised}
        # Real objects overlap (a duplicate can sit on another class's object), so other errors
        # may appear but stay an order of magnitude smaller.
        assert max(others.values()) < res.main[raised] / 5, (scale, res.main)
    assert results["all"].ap50 < 100 - 0.5


@pytest.mark.realdata
def test_perfect_predictions(coco_gt):
    for res in _tide(coco_gt, damaged_predictions(coco_gt, Damage(), seed=0)).values():
        assert res.ap50 == 100
        assert res.main == dict.fromkeys(MAIN_ERRORS, 0.0)
        assert res.special == {"FalsePos": 0.0, "FalseNeg": 0.0}


@pytest.mark.realdata
def test_damage_confined_to_small_objects_stays_in_small(coco_gt):
    """Scale split check: jitter only small objects, medium and large stay perfect."""
    raw = damaged_predictions(coco_gt, Damage(), seed=0)
    small = {i for i, a in enumerate(coco_gt.dataset["annotations"]) if a["area"] < 32**2}
    solid = [i for i, a in enumerate(coco_gt.dataset["annotations"]) if not a["iscrowd"]]
    for k, ann_index in enumerate(solid):
        if ann_index in small and k % 2 == 0:
            x, y, w, h = raw[k]["bbox"]
            raw[k]["bbox"] = [x + 0.6 * w, y, w, h]  # IoU 0.25 with its object
    results = _tide(coco_gt, raw)
    assert results["small"].main["Loc"] > 10
    for scale in ("medium", "large"):  # a shifted box may overlap a bigger neighbour more
        assert results[scale].ap50 > 99.9
        assert results[scale].main["Loc"] < 0.1


def test_tidecv_style_does_not_leak_into_our_plots(tiny_gt):
    import matplotlib

    before = dict(matplotlib.rcParams)
    _tide(tiny_gt, TINY_PREDICTIONS)
    assert {k for k, v in matplotlib.rcParams.items() if before[k] != v} == set()
