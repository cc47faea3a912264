"""COCO mAP: hand-computed values, pycocotools run directly, and backend equality."""

from __future__ import annotations

import contextlib
import io
import sys

import pytest
from detect_fixtures import TINY_MAP, TINY_PREDICTIONS, write_json

from cvtool.core.errors import CvtoolError
from cvtool.detect.coco_eval import STAT_NAMES, coco_evaluate
from cvtool.detect.cocodata import load_predictions
from cvtool.synthetic.detections import Damage, damaged_predictions


def test_tiny_hand_computed(tiny_gt):
    result = coco_evaluate(tiny_gt, load_predictions(TINY_PREDICTIONS, tiny_gt))
    assert result.stats["AP50"] == pytest.approx(TINY_MAP)
    assert result.stats["AP"] == pytest.approx(TINY_MAP)  # exact boxes: same at every IoU
    assert result.stats["AP_small"] == pytest.approx(1.0)  # the cat at score .9
    assert result.stats["AR100"] == pytest.approx(1.0)
    assert result.per_category_ap == pytest.approx({"cat": (TINY_MAP * 2 - 1), "dog": 1.0})
    assert result.precision.shape == (10, 101)


def test_empty_predictions_score_zero(tiny_gt):
    result = coco_evaluate(tiny_gt, load_predictions([], tiny_gt))
    assert result.stats == dict.fromkeys(STAT_NAMES, 0.0)


def test_missing_fast_backend_is_a_clear_error(tiny_gt, monkeypatch):
    monkeypatch.setitem(sys.modules, "faster_coco_eval", None)
    with pytest.raises(CvtoolError, match="faster-coco-eval backend is not installed"):
        coco_evaluate(tiny_gt, load_predictions(TINY_PREDICTIONS, tiny_gt), "faster-coco-eval")


def test_unknown_backend(tiny_gt):
    with pytest.raises(CvtoolError, match="unknown COCO backend"):
        coco_evaluate(tiny_gt, load_predictions([], tiny_gt), "detectron")


def _pycocotools_direct(annotations, predictions_path) -> list[float]:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(annotations))
        ev = COCOeval(gt, gt.loadRes(str(predictions_path)), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats.tolist()


@pytest.mark.realdata
@pytest.mark.parametrize("seed", [0, 1])
def test_real_data_equals_pycocotools_and_faster_backend(coco_gt, coco_annotations, tmp_path, seed):
    raw = damaged_predictions(coco_gt, Damage.demo(), seed=seed)
    path = write_json(tmp_path / "preds.json", raw)
    preds = load_predictions(path, coco_gt)
    ours = coco_evaluate(coco_gt, preds, "pycocotools")
    direct = _pycocotools_direct(coco_annotations, path)
    assert list(ours.stats.values()) == direct  # same code path: bit-identical
    assert 0.3 < ours.stats["AP"] < 0.95
    pytest.importorskip("faster_coco_eval")
    fast = coco_evaluate(coco_gt, preds, "faster-coco-eval")
    assert fast.stats == pytest.approx(ours.stats, abs=1e-12)
    assert fast.per_category_ap == pytest.approx(ours.per_category_ap, abs=1e-12)


@pytest.mark.realdata
def test_real_data_perfect_predictions(coco_gt):
    perfect = damaged_predictions(coco_gt, Damage(), seed=0)
    stats = coco_evaluate(coco_gt, load_predictions(perfect, coco_gt)).stats
    for name in ("AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large", "AR100"):
        assert stats[name] == 1.0
