"""Loading ground truth and predictions: clear errors for bad input, unscorable ones counted."""

from __future__ import annotations

import numpy as np
import pytest
from detect_fixtures import TINY_PREDICTIONS, det, tiny_dataset, write_json

from cvtool.core.errors import CvtoolError
from cvtool.detect.cocodata import load_ground_truth, load_predictions


def test_ground_truth_arrays(tiny_gt):
    assert tiny_gt.categories == {1: "cat", 2: "dog", 3: "bird"}
    assert tiny_gt.ann_area.tolist() == [400, 1600, 3600, 10000, 900]
    assert tiny_gt.ann_crowd.tolist() == [False, False, False, False, True]
    assert tiny_gt.scored_categories.tolist() == [1, 2]
    assert tiny_gt.area_source == "area field"


def test_boxes_only_ground_truth_gets_box_area_and_iscrowd(tmp_path):
    data = tiny_dataset()
    for ann in data["annotations"]:
        del ann["area"], ann["iscrowd"]
    gt = load_ground_truth(write_json(tmp_path / "gt.json", data))
    assert gt.area_source == "box area"
    assert gt.ann_area.tolist() == [400, 1600, 3600, 10000, 900]
    assert not gt.ann_crowd.any()
    assert not gt.has_segmentation


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("annotations"), "has no 'annotations' list"),
        (lambda d: d["annotations"][0].pop("bbox"), "bbox must be a list of 4 numbers"),
        (lambda d: d["annotations"][0].update(bbox=[0, 0, -1, 5]), "negative size"),
        (lambda d: d["annotations"][0].update(image_id=99), "image_id 99 is not in 'images'"),
        (lambda d: d["annotations"][0].update(category_id=7), "category_id 7 is not in"),
        (lambda d: d["images"][0].pop("id"), "lacks a valid 'id'"),
    ],
)
def test_bad_ground_truth(tmp_path, mutate, message):
    data = tiny_dataset()
    mutate(data)
    path = write_json(tmp_path / "gt.json", data)
    with pytest.raises(CvtoolError, match=message) as err:
        load_ground_truth(path)
    assert str(path) in err.value.message


def test_ground_truth_not_json(tmp_path):
    path = tmp_path / "gt.json"
    path.write_text("{not json")
    with pytest.raises(CvtoolError, match="is not valid JSON"):
        load_ground_truth(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"annotations": []}, "must hold a JSON list"),
        ([[1, 2]], "expected an object"),
        ([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}], "missing 'score'"),
        ([det(1, 1, [0, 0, 1], 0.5)], "bbox must be a list of 4 numbers"),
        ([det(1, 1, [0, 0, "a", 1], 0.5)], "non-number"),
        ([det(1, 1, [0, 0, 1, 1], float("nan"))], "score nan is not finite"),
        ([det("x", 1, [0, 0, 1, 1], 0.5)], "must be integers"),
        ([det(42, 1, [0, 0, 1, 1], 0.5)], "none of its 1 predictions is on an image"),
    ],
)
def test_bad_predictions(tmp_path, tiny_gt, content, message):
    path = write_json(tmp_path / "preds.json", content)
    with pytest.raises(CvtoolError, match=message) as err:
        load_predictions(path, tiny_gt)
    assert str(path) in err.value.message


def test_malformed_predictions_json(tmp_path, tiny_gt):
    path = tmp_path / "preds.json"
    path.write_text('[{"image_id": 1,')
    with pytest.raises(CvtoolError, match=r"preds.json is not valid JSON \(line 1"):
        load_predictions(path, tiny_gt)


def test_unscorable_predictions_are_dropped_and_counted(tiny_gt):
    extra = [
        det(99, 1, [0, 0, 5, 5], 0.5),  # image not in the ground truth
        det(1, 17, [0, 0, 5, 5], 0.5),  # category not in the file
        det(1, 3, [0, 0, 5, 5], 0.5),  # bird: a category without objects
    ]
    preds = load_predictions(TINY_PREDICTIONS + extra, tiny_gt)
    assert len(preds) == len(TINY_PREDICTIONS)
    assert preds.dropped == {
        "unknown_image": 1,
        "unknown_category": 1,
        "category_without_ground_truth": 1,
    }
    assert preds.to_coco() == [
        {**d, "bbox": [float(v) for v in d["bbox"]]} for d in TINY_PREDICTIONS
    ]
    np.testing.assert_array_equal(preds.image_id, [1, 1, 1, 2, 2])


def test_empty_predictions_are_valid(tmp_path, tiny_gt):
    preds = load_predictions(write_json(tmp_path / "p.json", []), tiny_gt)
    assert len(preds) == 0


def test_vectorised_and_checked_conversion_agree():
    from cvtool.detect.cocodata import _as_arrays, _checked_arrays

    dets = [det(1, 2, [0, 1.5, 2, 3], 0.5), det(7, 1, [4, 5, 6, 7], 1)]
    fast = _as_arrays(dets)
    for a, b in zip(fast, _checked_arrays(dets, "x"), strict=True):
        np.testing.assert_array_equal(a, b)
    assert fast[0].dtype == np.int64 and fast[2].dtype == np.float64
    for odd in (
        [det(1.5, 1, [0, 0, 1, 1], 0.5)],
        [det(1, 1, [0, 0, 1], 0.5)],
        [det(1, 1, [0, 0, 1, 1], "0.5")],
    ):
        assert _as_arrays(odd) is None  # left to the entry-by-entry checks
