"""The detect leg of `cvtool demo`: predictions for a COCO file, then the full evaluation.

With a local YOLO checkpoint the predictions are real. Without one (no pretrained detector can
be downloaded offline) they come from the seeded simulated detector in `synthetic.py`, and every
artifact says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cvtool.core.artifacts import atomic_write_json, staged_output_dir
from cvtool.core.provenance import provenance
from cvtool.detect.cocodata import load_ground_truth
from cvtool.detect.evaluate import evaluate_detections
from cvtool.detect.yolo import YoloOptions, run_yolo
from cvtool.synthetic.detections import Damage, damaged_predictions

BASELINE_LABEL = (
    "Simulated baseline, not a trained model: no pretrained detector is available offline, so "
    "these predictions are the ground truth with seeded damage (misses, class swaps, box jitter, "
    "duplicates, background boxes). The numbers check the evaluation, not a detector."
)


@dataclass
class DetectDemoResult:
    eval_dir: Path
    predictions: Path
    detector: str
    headline: dict[str, Any]


def detect_demo(
    annotations: Path,
    out: Path,
    images: Path | None = None,
    weights: Path | None = None,
    seed: int = 0,
    overwrite: bool = False,
    yolo_options: YoloOptions | None = None,
) -> DetectDemoResult:
    """Write `out/predictions.json`, `out/run.json` and the evaluation (coco_eval.json,
    tide.json, calibration.json, report.md, plots/) into `out`.

    `weights` (a local YOLO checkpoint) needs `images`; without weights the simulated detector
    is used. Returns the eval dir, the predictions path, which detector ran, and headline numbers
    (AP, AP50, AP per scale, TIDE AP50 and main errors, ECE).
    """
    label = None
    if weights is not None:
        if images is None:
            from cvtool.core.errors import CvtoolError

            raise CvtoolError("a YOLO demo run needs the images folder as well as the weights")
        run_yolo(weights, images, out, annotations, yolo_options, overwrite=overwrite)
        detector = f"yolo: {weights}"
    else:
        damage = Damage.demo()
        preds = damaged_predictions(load_ground_truth(annotations), damage, seed)
        with staged_output_dir(out, overwrite) as stage:
            atomic_write_json(stage / "predictions.json", preds)
            atomic_write_json(
                stage / "run.json",
                {
                    "detector": "simulated baseline",
                    "note": BASELINE_LABEL,
                    "damage": asdict(damage),
                    "seed": seed,
                    "annotations": str(Path(annotations).resolve()),
                    "num_predictions": len(preds),
                    **provenance(),
                },
            )
        detector, label = "simulated baseline", BASELINE_LABEL
    result = evaluate_detections(out / "predictions.json", annotations, out, label=label)
    return DetectDemoResult(out, out / "predictions.json", detector, result.headline)
