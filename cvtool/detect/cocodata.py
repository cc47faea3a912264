"""Load and check COCO ground truth and COCO-results predictions into NumPy arrays.

Every problem becomes a `CvtoolError` naming the file and the offending entry, so nothing bad
reaches pycocotools or tidecv. Predictions that cannot be scored are dropped and counted, with
the same rule pycocotools applies implicitly: an image absent from the ground truth, a category
absent from it, or a category without any non-crowd ground-truth object is not evaluated.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.artifacts import read_json
from cvtool.core.boxes import box_area
from cvtool.core.errors import CvtoolError


@dataclass
class GroundTruth:
    """A COCO instances file, normalised: every annotation has `area` and `iscrowd`."""

    path: Path
    dataset: dict[str, Any]
    categories: dict[int, str]
    image_ids: np.ndarray
    ann_image: np.ndarray
    ann_category: np.ndarray
    ann_box: np.ndarray
    ann_area: np.ndarray
    ann_crowd: np.ndarray
    area_source: str
    has_segmentation: bool

    @property
    def scored_categories(self) -> np.ndarray:
        """Categories with at least one non-crowd object: the ones COCO averages over."""
        return np.unique(self.ann_category[~self.ann_crowd])

    def coco_dataset(self) -> dict[str, Any]:
        """A deep copy for libraries that mutate what they are given."""
        return copy.deepcopy(self.dataset)


@dataclass
class Predictions:
    """Detections as parallel arrays (boxes xywh), plus what was dropped and why. Calibrated
    predictions (`detect calibrate --apply`) also carry the detector's own score, `raw_score`
    (the `score_raw` field of the file)."""

    image_id: np.ndarray
    category_id: np.ndarray
    box: np.ndarray
    score: np.ndarray
    source: str = "predictions"
    dropped: dict[str, int] = field(default_factory=dict)
    raw_score: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.score)

    def subset(self, keep: np.ndarray) -> Predictions:
        return Predictions(
            self.image_id[keep],
            self.category_id[keep],
            self.box[keep],
            self.score[keep],
            self.source,
            dict(self.dropped),
            None if self.raw_score is None else self.raw_score[keep],
        )

    def to_coco(self) -> list[dict[str, Any]]:
        """COCO results format (a fresh list of dicts), with `score_raw` when there is one."""
        dets = [
            {
                "image_id": int(i),
                "category_id": int(c),
                "bbox": [float(v) for v in b],
                "score": float(s),
            }
            for i, c, b, s in zip(
                self.image_id, self.category_id, self.box, self.score, strict=True
            )
        ]
        if self.raw_score is not None:
            for det, raw in zip(dets, self.raw_score.tolist(), strict=True):
                det["score_raw"] = raw
        return dets


def _numbers(values: Any, where: str, what: str) -> list[float]:
    if not isinstance(values, list | tuple) or len(values) != 4:
        raise CvtoolError(f"{where}: {what} must be a list of 4 numbers [x, y, width, height]")
    try:
        nums = [float(v) for v in values]
    except (TypeError, ValueError):
        raise CvtoolError(f"{where}: {what} {values!r} holds a non-number") from None
    if not all(math.isfinite(v) for v in nums) or nums[2] < 0 or nums[3] < 0:
        raise CvtoolError(f"{where}: {what} {values!r} is not finite or has a negative size")
    return nums


def load_ground_truth(path: str | Path) -> GroundTruth:
    """Read and check a COCO instances file."""
    path = Path(path)
    data = read_json(path, "annotation file")
    if not isinstance(data, dict):
        raise CvtoolError(
            f"annotation file {path} must hold a JSON object with 'images', "
            "'annotations' and 'categories'"
        )
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            raise CvtoolError(
                f"annotation file {path} has no '{key}' list",
                "pass a COCO instances file such as instances_val2017.json",
            )
    try:
        categories = {int(c["id"]): str(c["name"]) for c in data["categories"]}
        image_ids = np.array([int(im["id"]) for im in data["images"]], dtype=np.int64)
    except (KeyError, TypeError, ValueError) as e:
        raise CvtoolError(
            f"annotation file {path}: an image or category lacks a valid {e}"
        ) from None
    known_images = set(image_ids.tolist())
    anns = data["annotations"]
    n = len(anns)
    ann_image = np.empty(n, np.int64)
    ann_category = np.empty(n, np.int64)
    ann_box = np.empty((n, 4), np.float64)
    ann_area = np.empty(n, np.float64)
    ann_crowd = np.empty(n, bool)
    from_field = 0
    has_segmentation = True
    for i, ann in enumerate(anns):
        where = f"annotation file {path}, annotation #{i} (id {ann.get('id', '?')})"
        try:
            ann_image[i], ann_category[i] = int(ann["image_id"]), int(ann["category_id"])
        except (KeyError, TypeError, ValueError):
            raise CvtoolError(f"{where}: needs integer 'image_id' and 'category_id'") from None
        if ann_image[i] not in known_images:
            raise CvtoolError(f"{where}: image_id {ann_image[i]} is not in 'images'")
        if ann_category[i] not in categories:
            raise CvtoolError(f"{where}: category_id {ann_category[i]} is not in 'categories'")
        ann_box[i] = _numbers(ann.get("bbox"), where, "bbox")
        if "area" in ann:
            ann_area[i] = float(ann["area"])
            from_field += 1
        else:
            ann_area[i] = box_area(ann_box[i])[0]
            ann["area"] = float(ann_area[i])
        ann_crowd[i] = bool(ann.setdefault("iscrowd", 0))
        ann.setdefault("id", i + 1)
        has_segmentation &= "segmentation" in ann
    area_source = (
        "area field"
        if from_field == n
        else "box area"
        if from_field == 0
        else "area field where given, else box area"
    )
    return GroundTruth(
        path,
        data,
        categories,
        image_ids,
        ann_image,
        ann_category,
        ann_box,
        ann_area,
        ann_crowd,
        area_source,
        has_segmentation,
    )


def load_predictions(source: str | Path | list[dict[str, Any]], gt: GroundTruth) -> Predictions:
    """Read COCO results (`[{image_id, category_id, bbox, score}, ...]`); keep the scorable."""
    where = str(source) if not isinstance(source, list) else "predictions"
    dets = read_json(source, "predictions file") if not isinstance(source, list) else source
    if not isinstance(dets, list):
        raise CvtoolError(
            f"predictions file {where} must hold a JSON list in COCO results format",
            'expected [{"image_id": 1, "category_id": 3, "bbox": [x, y, w, h], "score": 0.9}, ...]',
        )
    preds = Predictions(*prediction_arrays(dets, where), source=where)
    preds.raw_score = _raw_scores(dets, where)
    return _keep_scorable(preds, gt)


def prediction_arrays(dets: list[Any], where: str) -> tuple[np.ndarray, ...]:
    """`(image_id, category_id, box, score)` of a COCO results list read from `where`, with a
    CvtoolError naming the first malformed entry."""
    return _as_arrays(dets) or _checked_arrays(dets, where)


def _raw_scores(dets: list[Any], where: str) -> np.ndarray | None:
    """The detector's own scores of calibrated predictions (`score_raw`), or None."""
    has = [isinstance(d, dict) and "score_raw" in d for d in dets]
    if not any(has):
        return None
    if not all(has):
        raise CvtoolError(
            f"predictions file {where}, entry #{has.index(False)}: no 'score_raw', which other "
            "entries have",
            "calibrated predictions keep the original score of every entry; calibrate the "
            "original predictions again",
        )
    try:
        raw = np.array([float(d["score_raw"]) for d in dets])
    except (TypeError, ValueError):
        raise CvtoolError(f"predictions file {where}: a 'score_raw' is not a number") from None
    if not np.isfinite(raw).all():
        raise CvtoolError(f"predictions file {where}: a 'score_raw' is not finite")
    return raw


def _as_arrays(dets: list[Any]) -> tuple[np.ndarray, ...] | None:
    """Vectorised conversion of well-formed predictions; None when an entry needs a closer look
    (then `_checked_arrays` finds it and says what is wrong)."""
    if not dets:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty((0, 4)), np.empty(0)
    try:
        image_id = np.array([d["image_id"] for d in dets])
        category_id = np.array([d["category_id"] for d in dets])
        box = np.array([d["bbox"] for d in dets])
        score = np.array([d["score"] for d in dets])
    except (KeyError, TypeError, ValueError):
        return None
    well_formed = (
        image_id.dtype.kind in "iu"
        and category_id.dtype.kind in "iu"
        and box.dtype.kind in "iuf"
        and box.shape == (len(dets), 4)
        and score.dtype.kind in "iuf"
    )
    if not well_formed:
        return None
    box, score = box.astype(np.float64), score.astype(np.float64)
    if not (np.isfinite(box).all() and np.isfinite(score).all() and (box[:, 2:] >= 0).all()):
        return None
    return image_id.astype(np.int64), category_id.astype(np.int64), box, score


def _checked_arrays(dets: list[Any], where: str) -> tuple[np.ndarray, ...]:
    """Entry by entry, raising a CvtoolError at the first malformed prediction."""
    n = len(dets)
    image_id = np.empty(n, np.int64)
    category_id = np.empty(n, np.int64)
    box = np.empty((n, 4), np.float64)
    score = np.empty(n, np.float64)
    for i, det in enumerate(dets):
        at = f"predictions file {where}, entry #{i}"
        if not isinstance(det, dict):
            raise CvtoolError(f"{at}: expected an object, got {type(det).__name__}")
        try:
            image_id[i], category_id[i] = int(det["image_id"]), int(det["category_id"])
            score[i] = float(det["score"])
        except KeyError as e:
            raise CvtoolError(
                f"{at}: missing {e.args[0]!r}",
                "each prediction needs image_id, category_id, bbox and score",
            ) from None
        except (TypeError, ValueError):
            raise CvtoolError(
                f"{at}: image_id and category_id must be integers, score a number"
            ) from None
        if not math.isfinite(score[i]):
            raise CvtoolError(f"{at}: score {det['score']!r} is not finite")
        box[i] = _numbers(det.get("bbox"), at, "bbox")
    return image_id, category_id, box, score


def _keep_scorable(preds: Predictions, gt: GroundTruth) -> Predictions:
    known_image = np.isin(preds.image_id, gt.image_ids)
    known_category = np.isin(preds.category_id, np.fromiter(gt.categories, np.int64))
    scored = np.isin(preds.category_id, gt.scored_categories)
    dropped = {
        "unknown_image": int((~known_image).sum()),
        "unknown_category": int((known_image & ~known_category).sum()),
        "category_without_ground_truth": int((known_image & known_category & ~scored).sum()),
    }
    if len(preds) and not known_image.any():
        raise CvtoolError(
            f"predictions file {preds.source}: none of its {len(preds)} predictions is on an image "
            f"of {gt.path}",
            "check that the predictions were made on the images of this annotation file",
        )
    kept = preds.subset(known_image & scored)
    kept.dropped = dropped
    return kept
