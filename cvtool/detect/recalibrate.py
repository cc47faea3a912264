"""`detect calibrate`: fit a score calibration on one predictions file, apply it to others.

Fitting matches the predictions to the ground truth at IoU 0.5 (`matching.py`, as COCOeval
does), fits the map from score to right-or-wrong (`score_calibration.py`) and writes the
calibration dir: `score_calibration.json` (method, parameters, what it was fitted on, and the
ECE per scale of the fit predictions before and after) and `plots/reliability_*.png`.

Applying rewrites a COCO results file: each entry's `score` becomes the calibrated one and its
`score_raw` keeps the detector's own, so `detect eval` reports both; every other field is kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.artifacts import (
    atomic_write_json,
    check_file_replaceable,
    check_replaceable,
    json_text,
    read_json,
    replaced_file,
    staged_output_dir,
)
from cvtool.core.calibration import CalibrationResult
from cvtool.core.errors import CvtoolError
from cvtool.core.outputs import check_not_staging
from cvtool.core.provenance import provenance
from cvtool.detect.calibration import detection_calibration
from cvtool.detect.cocodata import (
    GroundTruth,
    load_ground_truth,
    load_predictions,
    prediction_arrays,
)
from cvtool.detect.matching import match_predictions
from cvtool.detect.scales import prediction_scales
from cvtool.detect.score_calibration import (
    ScoreCalibration,
    box_features,
    calibrate_scores,
    fit_score_calibration,
    image_sizes,
)

CALIBRATION_FILE = "score_calibration.json"


def _by_scale(results: dict[str, CalibrationResult | None]) -> dict[str, Any]:
    return {
        name: None if r is None else {**r.summary(), "total": r.total}
        for name, r in results.items()
    }


def _relative_boxes(gt: GroundTruth, image_ids: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    return box_features(boxes, image_sizes(gt, image_ids))


def fit_detection_calibration(
    predictions: Path,
    annotations: Path,
    out: Path,
    method: str = "platt",
    iou_threshold: float = 0.5,
    n_bins: int = 15,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Fit `method` to `predictions` scored against `annotations`; write the calibration dir
    `out` as one artifact (`staged_output_dir`); return what `score_calibration.json` holds."""
    from cvtool.core.plots import plot_reliability

    check_replaceable(out, overwrite)
    gt = load_ground_truth(annotations)
    preds = load_predictions(predictions, gt)
    where = f"predictions file {predictions}"
    if preds.raw_score is not None:
        raise CvtoolError(
            f"{where} is already calibrated (its entries have 'score_raw')",
            "fit on the detector's original predictions",
        )
    if not len(preds):
        raise CvtoolError(
            f"{where} holds no predictions that can be scored against {annotations}",
            "fit on the predictions of the images of this annotation file",
        )
    if preds.score.min() < 0 or preds.score.max() > 1:
        raise CvtoolError(
            f"{where}: scores span [{preds.score.min():.4g}, "
            f"{preds.score.max():.4g}]; calibration needs scores in [0, 1]"
        )
    match = match_predictions(preds, gt, iou_threshold)
    used = ~match.ignored
    correct = match.correct[used]
    if not correct.any() or correct.all():
        what = "none" if not correct.any() else "every one"
        raise CvtoolError(
            f"{what} of the {int(used.sum())} predictions in {predictions} matches an object of "
            f"its class at IoU {iou_threshold} in {annotations}: a calibration needs right and "
            "wrong predictions to tell apart",
            "check that the predictions and the annotation file belong together (image and "
            "category ids)",
        )
    boxes = None
    if method == "box":
        boxes = _relative_boxes(gt, preds.image_id, preds.box)
    calibration = fit_score_calibration(
        method, preds.score[used], correct, None if boxes is None else boxes[used]
    )
    calibrated = calibrate_scores(calibration, preds.score, boxes)
    scales = prediction_scales(preds, gt, match)
    before = detection_calibration(preds, match, scales, n_bins)
    after = detection_calibration(preds, match, scales, n_bins, calibrated)
    record = {
        **calibration.to_dict(),
        "iou_threshold": iou_threshold,
        "n_bins": n_bins,
        "fitted_on": {
            "predictions": str(predictions),
            "annotations": str(annotations),
            "images": len(np.unique(preds.image_id)),
            "predictions_used": int(used.sum()),
            "matched": int(correct.sum()),
        },
        "before": _by_scale(before),
        "after": _by_scale(after),
        **provenance("scikit-learn"),
    }
    with staged_output_dir(out, overwrite) as stage:
        atomic_write_json(stage / CALIBRATION_FILE, record)
        for scale, result in after.items():
            if result is not None:
                plot_reliability(
                    result,
                    stage / "plots" / f"reliability_{scale}.png",
                    f"{method} score calibration (fit set), {scale}",
                    raw=before[scale],
                )
    _print_fit(record)
    return record


def _print_fit(record: dict[str, Any]) -> None:
    """The ECE per scale of the fit predictions, before and after, on stderr."""
    from rich.table import Table

    from cvtool.core.console import console

    title = (
        f"{record['method']} score calibration: ECE @IoU{record['iou_threshold']} of the fit set"
    )
    table = Table(title=title, title_justify="left")
    for name in ("scale", "predictions", "ECE before", "ECE after"):
        table.add_column(name, justify="left" if name == "scale" else "right")
    for scale, was in record["before"].items():
        now = record["after"][scale]
        if was is not None:
            table.add_row(scale, str(was["total"]), f"{was['ece']:.4f}", f"{now['ece']:.4f}")
    console.print(table)


def read_score_calibration(source: Path) -> ScoreCalibration:
    """The calibration of a calibration dir (or of its `score_calibration.json`)."""
    check_not_staging(source, "calibration")
    path = source / CALIBRATION_FILE if source.is_dir() else source
    return ScoreCalibration.from_dict(read_json(path, "score calibration"), str(path))


def apply_detection_calibration(
    predictions: Path,
    calibration: ScoreCalibration,
    out: Path,
    annotations: Path | None = None,
    overwrite: bool = False,
) -> int:
    """Write `predictions` with calibrated scores (and `score_raw`) to `out`; return how many.

    `annotations` gives the image sizes the box method needs."""
    check_file_replaceable(out, overwrite)
    where = f"predictions file {predictions}"
    dets = read_json(predictions, "predictions file")
    if not isinstance(dets, list):
        raise CvtoolError(f"{where} must hold a JSON list in COCO results format")
    if not dets:
        raise CvtoolError(f"{where} holds no predictions to calibrate")
    if any(isinstance(d, dict) and "score_raw" in d for d in dets):
        raise CvtoolError(
            f"{where} is already calibrated (its entries have 'score_raw')",
            "apply the calibration to the detector's original predictions",
        )
    image_id, _, box, score = prediction_arrays(dets, str(predictions))
    boxes = None
    if calibration.needs_boxes:
        if annotations is None:
            raise CvtoolError(
                "box-aware calibration needs the image sizes of the annotation file",
                param="annotations",
            )
        boxes = _relative_boxes(load_ground_truth(annotations), image_id, box)
    calibrated = calibrate_scores(calibration, score, boxes)
    rewritten = [
        {**det, "score": float(new), "score_raw": det["score"]}
        for det, new in zip(dets, calibrated.tolist(), strict=True)
    ]
    with replaced_file(out, overwrite) as tmp:
        tmp.write_text(json_text(rewritten), encoding="utf-8")
    return len(rewritten)
