"""Scale buckets, prediction scale assignment, and class-name to category-id mapping."""

from __future__ import annotations

import numpy as np
import pytest
from detect_fixtures import det, write_json

from cvtool.core.errors import CvtoolError
from cvtool.detect.categories import map_categories, normalize
from cvtool.detect.cocodata import load_predictions
from cvtool.detect.matching import match_predictions
from cvtool.detect.scales import ground_truth_scales, prediction_scales, scale_index


def test_scale_edges():
    areas = [0, 1023.9, 1024, 9215.9, 9216, 1e9]
    assert scale_index(np.array(areas)).tolist() == [0, 0, 1, 1, 2, 2]


def test_prediction_scale_follows_its_object(tiny_gt):
    assert ground_truth_scales(tiny_gt).tolist() == [0, 1, 1, 2, 0]
    raw = [
        det(1, 1, [10, 10, 21, 21], 0.9),  # matches the small cat, own box area 441 -> small
        det(2, 1, [0, 0, 100, 100], 0.9),  # wrong class on the large dog -> large
        det(1, 2, [50, 50, 10, 30], 0.9),  # IoU 0.19 with the medium dog -> medium
        det(1, 1, [0, 60, 40, 40], 0.9),  # touches nothing: own box area 1600 -> medium
    ]
    preds = load_predictions(raw, tiny_gt)
    scales = prediction_scales(preds, tiny_gt, match_predictions(preds, tiny_gt))
    assert scales.tolist() == [0, 2, 1, 1]


COCO_LIKE = {1: "person", 3: "car", 10: "traffic light", 90: "toothbrush"}


def test_names_match_after_normalising():
    assert normalize("  Traffic_Light ") == "traffic light"
    names = {0: "Person", 1: "traffic-light", 2: "car", 3: "unicorn"}
    mapping, unmatched = map_categories(names, COCO_LIKE)
    assert mapping == {0: 1, 1: 10, 2: 3}
    assert unmatched == ["unicorn"]


def test_index_mapping():
    mapping, unmatched = map_categories({0: "0", 1: "1", 2: "2", 3: "3"}, COCO_LIKE, "index")
    assert mapping == {0: 1, 1: 3, 2: 10, 3: 90}
    assert unmatched == []
    with pytest.raises(CvtoolError, match="as many model classes"):
        map_categories({0: "a"}, COCO_LIKE, "index")


def test_mapping_file(tmp_path):
    path = write_json(tmp_path / "map.json", {"unicorn": "toothbrush", "1": 3})
    names = {0: "person", 1: "automobile", 2: "unicorn"}
    mapping, unmatched = map_categories(names, COCO_LIKE, path)
    assert mapping == {0: 1, 1: 3, 2: 90}
    assert unmatched == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"dragon": 1}, "'dragon' is not a class of the model"),
        ({"person": 77}, "category id 77 is not in"),
        ({"person": "giraffe"}, "category 'giraffe' is not in"),
        (["person"], "must be a JSON object"),
    ],
)
def test_bad_mapping_file(tmp_path, content, message):
    path = write_json(tmp_path / "map.json", content)
    with pytest.raises(CvtoolError, match=message) as err:
        map_categories({0: "person"}, COCO_LIKE, path)
    assert str(path) in err.value.message
