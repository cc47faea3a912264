"""`detect eval`: COCO mAP, TIDE and calibration per scale for COCO-format predictions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cvtool.core.artifacts import atomic_write_json, atomic_write_text, staged_output_dir
from cvtool.core.calibration import CalibrationResult
from cvtool.core.console import console, warn
from cvtool.core.provenance import provenance
from cvtool.detect.calibration import calibration_dict, detection_calibration
from cvtool.detect.coco_eval import CocoEvalResult, coco_evaluate
from cvtool.detect.cocodata import GroundTruth, Predictions, load_ground_truth, load_predictions
from cvtool.detect.matching import MatchResult, match_predictions
from cvtool.detect.report import render_report
from cvtool.detect.scales import (
    PREDICTION_SCALE_RULE,
    SCALES,
    ground_truth_scales,
    prediction_scales,
)
from cvtool.detect.summary import headline_values
from cvtool.detect.tide import TideResult, tide_by_scale

# What an evaluation writes; in a detect run dir, the run's own files stay beside them.
OUTPUTS = ("coco_eval.json", "tide.json", "calibration.json", "report.md", "plots")


@dataclass
class DetectionEval:
    out: Path
    headline: dict[str, Any]
    coco: dict[str, Any]
    tide: dict[str, Any]
    calibration: dict[str, Any]


def evaluate_detections(
    predictions: Path | list[dict[str, Any]],
    annotations: Path,
    out: Path,
    backend: str = "pycocotools",
    n_bins: int = 15,
    plots: bool = True,
    label: str | None = None,
    overwrite: bool = False,
) -> DetectionEval:
    """Write coco_eval.json, tide.json, calibration.json, report.md and plots/ into `out`.

    `label` is printed at the top of the report (e.g. that the predictions are a simulated
    baseline). `out` is built anew and swapped in; when it is the folder of the predictions
    file (a detect run dir) its other files are kept. An earlier evaluation in `out` is
    replaced only with `overwrite`. Returns the eval dir and headline numbers.
    """
    gt = load_ground_truth(annotations)
    preds = load_predictions(predictions, gt)
    if any(preds.dropped.values()):
        warn(
            "not scored: "
            + ", ".join(f"{v} with {k.replace('_', ' ')}" for k, v in preds.dropped.items() if v)
        )
    with console.status("COCO mAP"):
        coco = coco_evaluate(gt, preds, backend)
    match = match_predictions(preds, gt, 0.5)
    gt_scales, pred_scales = ground_truth_scales(gt), prediction_scales(preds, gt, match)
    with console.status("TIDE errors, all objects and per scale"):
        tide = tide_by_scale(gt, preds, gt_scales, pred_scales)
    calib, raw_calib, calib_doc = _calibration(preds, match, pred_scales, n_bins)
    source = "in memory" if isinstance(predictions, list) else str(predictions)
    coco_doc = _coco_doc(coco, preds, source, annotations)
    tide_doc = _tide_doc(tide, gt)
    meta = {
        "title": out.name,
        "label": label,
        "predictions": source,
        "annotations": str(annotations),
        "num_scored": len(preds),
        "num_images": len(gt.image_ids),
        "num_objects": int((~gt.ann_crowd).sum()),
        "dropped": preds.dropped,
    }
    in_run_dir = not isinstance(predictions, list) and out.resolve() == predictions.parent.resolve()
    with staged_output_dir(out, overwrite, owns=OUTPUTS if in_run_dir else None) as stage:
        atomic_write_json(stage / "coco_eval.json", coco_doc)
        atomic_write_json(stage / "tide.json", tide_doc)
        atomic_write_json(stage / "calibration.json", calib_doc)
        atomic_write_text(stage / "report.md", render_report(coco_doc, tide_doc, calib_doc, meta))
        if plots:
            _plots(stage / "plots", coco, tide, calib, raw_calib)
    headline = _headline(coco, tide, calib, raw_calib)
    return DetectionEval(out, headline, coco_doc, tide_doc, calib_doc)


Calibrations = dict[str, CalibrationResult | None]


def _calibration(
    preds: Predictions, match: MatchResult, scales: Any, n_bins: int
) -> tuple[Calibrations, Calibrations, dict[str, Any]]:
    """Calibration of the scores per scale and, for calibrated predictions, of the raw
    scores; and `calibration.json`. Scores that are not probabilities are skipped, with why."""
    doc: dict[str, Any] = {"iou_threshold": 0.5, "n_bins": n_bins}
    found: dict[str, Calibrations] = {"by_scale": {}, "raw_by_scale": {}}
    which = {"by_scale": None, "raw_by_scale": preds.raw_score}
    for key, scores in which.items():
        if key == "raw_by_scale" and scores is None:
            continue
        try:
            found[key] = detection_calibration(preds, match, scales, n_bins, scores)
            doc[key] = calibration_dict(found[key])
        except ValueError as e:
            what = "scores" if key == "by_scale" else "raw scores (score_raw)"
            doc["skipped" if key == "by_scale" else "raw_skipped"] = (
                f"{what} are not probabilities: {e}"
            )
            warn(f"calibration of the {what} skipped: {e}")
    return found["by_scale"], found["raw_by_scale"], doc


def _coco_doc(
    coco: CocoEvalResult, preds: Predictions, source: str, annotations: Path
) -> dict[str, Any]:
    return {
        **coco.to_dict(),
        "pr_curves": {
            f"{t:.2f}": coco.precision[i].round(6).tolist()
            for i, t in enumerate(coco.iou_thresholds)
        },
        "recall_thresholds": coco.recall_thresholds.round(2).tolist(),
        "num_predictions_scored": len(preds),
        "not_scored": preds.dropped,
        "annotations": str(annotations),
        "predictions": source,
        **provenance(coco.backend, "tidecv"),  # the backend names are distribution names
    }


def _tide_doc(tide: dict[str, TideResult | None], gt: GroundTruth) -> dict[str, Any]:
    return {
        "units": "AP50 points (0-100), as tidecv reports them",
        "pos_threshold": 0.5,
        "background_threshold": 0.1,
        "area_source": gt.area_source,
        "scales": {k: list(v) for k, v in SCALES.items()},
        "prediction_scale_rule": PREDICTION_SCALE_RULE,
        "by_scale": {k: None if v is None else v.to_dict() for k, v in tide.items()},
    }


def _headline(
    coco: CocoEvalResult,
    tide: dict[str, TideResult | None],
    calib: Calibrations,
    raw_calib: Calibrations,
) -> dict[str, Any]:
    """The detection headline metrics (`cvtool.core.headline`), then TIDE's overall numbers
    (and, for calibrated predictions, the ECE of the raw scores)."""
    overall, calib_all, raw_all = tide["all"], calib.get("all"), raw_calib.get("all")
    extra = {"ece_raw": None if raw_all is None else raw_all.ece} if raw_calib else {}
    return {
        **headline_values(
            coco.stats,
            None if overall is None else overall.to_dict(),
            None if calib_all is None else calib_all.ece,
        ),
        **extra,
    }


def _plots(
    directory: Path,
    coco: CocoEvalResult,
    tide: dict[str, TideResult | None],
    calib: Calibrations,
    raw_calib: Calibrations,
) -> None:
    from cvtool.core.plots import plot_reliability
    from cvtool.detect.plots import plot_pr_curves, plot_tide_errors

    plot_pr_curves(
        coco.recall_thresholds,
        coco.precision,
        coco.iou_thresholds,
        directory / "pr_curves.png",
        "COCO precision-recall (all areas, 100 dets)",
    )
    for scale, res in tide.items():
        if res is not None:
            plot_tide_errors(
                res.main, res.special, res.ap50, directory / f"tide_{scale}.png", f"TIDE, {scale}"
            )
    for scale, res in calib.items():
        if res is not None:
            plot_reliability(
                res,
                directory / f"reliability_{scale}.png",
                f"Detection calibration, {scale}",
                raw=raw_calib.get(scale),
            )
