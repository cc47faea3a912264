"""Detection calibration: does a score of 0.8 mean the detection is right 80% of the time?

A prediction is right when the greedy IoU-0.5 matching (`matching.py`) pairs it with an
unmatched object of its class. Predictions inside crowd regions are left out, as COCO ignores
them. Confidence vs right-or-wrong then goes through the shared `CalibrationBins` (equal-width
ECE and MCE, and the equal-mass adaptive ECE). Calibrated predictions are scored twice: their
calibrated scores, and the detector's own (`raw_score`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cvtool.core.calibration import CalibrationBins, CalibrationResult
from cvtool.detect.cocodata import Predictions
from cvtool.detect.matching import MatchResult
from cvtool.detect.scales import SCALES


def detection_calibration(
    preds: Predictions,
    match: MatchResult,
    scales: np.ndarray,
    n_bins: int = 15,
    scores: np.ndarray | None = None,
) -> dict[str, CalibrationResult | None]:
    """ECE overall and per scale of `scores` (default: the predictions' scores); a scale
    without predictions gets None.

    Scores must lie in [0, 1] (raises ValueError otherwise).
    """
    scores = preds.score if scores is None else scores
    if len(scores) and (scores.min() < 0 or scores.max() > 1):
        raise ValueError(f"scores span [{scores.min():.4g}, {scores.max():.4g}], not [0, 1]")
    used = ~match.ignored
    groups = {"all": used} | {name: used & (scales == i) for i, name in enumerate(SCALES)}
    return {
        name: CalibrationBins(n_bins).update(scores[keep], match.correct[keep]).compute()
        if keep.any()
        else None
        for name, keep in groups.items()
    }


def calibration_dict(results: dict[str, CalibrationResult | None]) -> dict[str, Any]:
    return {name: None if r is None else r.to_dict() for name, r in results.items()}
