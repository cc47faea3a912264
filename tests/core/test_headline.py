"""The headline specs agree with what each task reports, and read the same everywhere."""

from __future__ import annotations

import numpy as np
import pytest

from cvtool.classify.metrics import ClassificationMetrics
from cvtool.core.headline import HEADLINES, headline_spec
from cvtool.detect.coco_eval import STAT_NAMES
from cvtool.detect.summary import headline_values
from cvtool.segment.metrics import SegmentationEvaluator
from cvtool.track.evaluate import SUMMARY_FIELDS


def test_specs_cover_what_the_tasks_report() -> None:
    seg = SegmentationEvaluator(2, with_scores=False)
    seg.update(np.zeros((1, 2, 2), np.int64), pred=np.zeros((1, 2, 2), np.int64))
    assert set(HEADLINES["segmentation"].keys) == set(seg.compute().headline())
    cls = ClassificationMetrics(2).update(np.array([[0.9, 0.1]]), np.array([0]))
    assert set(HEADLINES["classification"].keys) == set(cls.compute().headline())
    detection = headline_values(dict.fromkeys(STAT_NAMES, 0.5), None, None)
    assert set(HEADLINES["detection"].keys) <= set(detection)
    assert set(HEADLINES["tracking"].keys) <= set(SUMMARY_FIELDS)


def test_metric_format_direction_and_lookup() -> None:
    seg = headline_spec("segmentation")
    assert seg["mean_ap"].label == "mAP (pixel)"
    assert [m.key for m in seg.compared] == [
        "miou", "pixel_accuracy", "mean_class_accuracy", "fw_iou", "mean_ap", "ece", "nll",
    ]  # fmt: skip
    assert seg["miou"].format(0.5) == "0.5000" and seg["ece"].format(None) == "—"
    assert seg["ece"].best([0.2, None, 0.1]) == 0.1 and seg["miou"].best([0.2, 0.3]) == 0.3
    assert headline_spec("tracking")["IDSW"].format(12) == "12"
    assert headline_spec("detection")["AP50"].format(0.51234) == "0.512"
    assert seg.labelled({"miou": 0.5, "ece": None}, ("miou", "ece")) == {"mIoU": 0.5}
    with pytest.raises(KeyError, match="valid names: segmentation"):
        headline_spec("pose")
