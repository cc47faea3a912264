"""Score calibration for a detector: turn a detection's score into the probability that it is
right, i.e. matched at IoU 0.5 to an unmatched object of its class (`matching.py`).

Fitted on the scored predictions of one set of images (crowd-ignored ones left out), applied
to the predictions of others. Methods:

- `platt`: logistic regression on the score's log-odds, `sigmoid(a * logit(s) + b)` (Platt,
  1999). Strictly increasing when `a > 0`, so the ranking of detections and COCO AP stay the
  same (up to scores that round to the same float).
- `isotonic`: the non-decreasing step function of the score that fits right-or-wrong best in
  least squares (sklearn's `IsotonicRegression`, linear between its knots, clipped outside).
  Scores inside a flat step become ties, which COCOeval orders by their place in the file, so
  AP moves a little.
- `box`: logistic regression on the score's log-odds and the box's centre and size relative
  to its image (`cx/W, cy/H, w/W, h/H`), the box-aware calibration of Küppers et al. (2020),
  as netcal's `LogisticCalibration(detection=True)` does it. It reorders detections, so AP may
  change either way. Needs the image sizes of the annotation file where it is applied.

>>> cal = fit_score_calibration("platt", scores, correct)
>>> calibrated = calibrate_scores(cal, other_scores)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.detect.cocodata import GroundTruth

METHODS = ("platt", "isotonic", "box")
EPS = 1e-6  # scores are clipped to [EPS, 1 - EPS] before taking log-odds
BOX_FEATURES = ("logit(score)", "cx/W", "cy/H", "w/W", "h/H")


@dataclass(frozen=True)
class ScoreCalibration:
    """A fitted score map: `method` and its `parameters` (`platt`: `a`, `b`; `isotonic`: the
    knots `x`, `y`; `box`: `coef` per feature of `BOX_FEATURES`, `intercept`)."""

    method: str
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "parameters": dict(self.parameters)}

    @classmethod
    def from_dict(cls, d: Any, where: str) -> ScoreCalibration:
        try:
            method, params = d["method"], dict(d["parameters"])
            check_method(method)
            needed = {"platt": ("a", "b"), "isotonic": ("x", "y"), "box": ("coef", "intercept")}
            return cls(method, {k: params[k] for k in needed[method]})
        except (KeyError, TypeError, ValueError, CvtoolError) as e:
            raise CvtoolError(f"{where} holds no usable score calibration ({e})") from None

    @property
    def needs_boxes(self) -> bool:
        return self.method == "box"


def check_method(method: str, param: str = "method") -> str:
    if method not in METHODS:
        valid = ", ".join(METHODS)
        raise ParameterError(f"unknown score calibration {method!r}; valid names: {valid}", param)
    return method


def _logit(scores: np.ndarray) -> np.ndarray:
    s = np.clip(np.asarray(scores, dtype=np.float64), EPS, 1 - EPS)
    return np.log(s) - np.log1p(-s)


def box_features(boxes: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """`(N, 4)`: each COCO box's centre and size relative to its image's `(width, height)`."""
    wh = np.tile(sizes, 2)
    x, y, w, h = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).T
    return np.stack([x + w / 2, y + h / 2, w, h], axis=1) / wh


def image_sizes(gt: GroundTruth, image_ids: np.ndarray) -> np.ndarray:
    """`(N, 2)`: the width and height of each image id, from the annotation file."""
    sizes = {}
    for im in gt.dataset["images"]:
        if "width" not in im or "height" not in im:
            raise CvtoolError(
                f"annotation file {gt.path}: image {im.get('id')} has no width/height, which "
                "box-aware calibration needs",
                "use the platt or isotonic method",
            )
        sizes[int(im["id"])] = (float(im["width"]), float(im["height"]))
    missing = sorted(set(np.asarray(image_ids).tolist()) - set(sizes))
    if missing:
        raise CvtoolError(
            f"image id {missing[0]} of the predictions is not in annotation file {gt.path}",
            "box-aware calibration needs the annotation file of the images predicted on",
        )
    return np.array([sizes[int(i)] for i in image_ids], dtype=np.float64).reshape(-1, 2)


def _features(method: str, scores: np.ndarray, boxes: np.ndarray | None) -> np.ndarray:
    logit = _logit(scores)[:, None]
    if method != "box":
        return logit
    if boxes is None:
        raise ValueError("the box method needs each prediction's relative box")
    return np.concatenate([logit, boxes], axis=1)


def fit_score_calibration(
    method: str, scores: np.ndarray, correct: np.ndarray, boxes: np.ndarray | None = None
) -> ScoreCalibration:
    """Fit `method` to predictions' `scores` and whether each is right (`boxes`: the relative
    boxes of `box_features`, for the box method)."""
    check_method(method)
    correct = np.asarray(correct, dtype=bool)
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        iso.fit(np.asarray(scores, dtype=np.float64), correct.astype(np.float64))
        knots = {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}
        return ScoreCalibration(method, knots)
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=np.inf, max_iter=1000)
    model.fit(_features(method, scores, boxes), correct)
    coef, intercept = model.coef_[0].tolist(), float(model.intercept_[0])
    if method == "platt":
        return ScoreCalibration(method, {"a": coef[0], "b": intercept})
    return ScoreCalibration(method, {"coef": coef, "intercept": intercept})


def calibrate_scores(
    calibration: ScoreCalibration, scores: np.ndarray, boxes: np.ndarray | None = None
) -> np.ndarray:
    """The calibrated probability of each score (`boxes` as for fitting, box method only)."""
    p = calibration.parameters
    if calibration.method == "isotonic":
        return np.interp(np.asarray(scores, dtype=np.float64), p["x"], p["y"])
    if calibration.method == "platt":
        z = p["a"] * _logit(scores) + p["b"]
    else:
        z = _features("box", scores, boxes) @ np.asarray(p["coef"]) + p["intercept"]
    return 1.0 / (1.0 + np.exp(-z))
