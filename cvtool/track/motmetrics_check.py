"""CLEAR and ID counts from motmetrics, as an independent cross-check of TrackEval.

motmetrics 1.4.0's `distances.iou_matrix` calls the removed `np.asfarray`, so the distance
matrix (1 - IoU, NaN below the 0.5 IoU match threshold) comes from the similarity scores the
TrackEval data dict already holds. Both scorers then see identical preprocessed boxes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

COUNTS = (
    "num_objects",
    "num_predictions",
    "num_false_positives",
    "num_misses",
    "num_switches",
    "idtp",
)


def clear_id_with_motmetrics(data: dict[str, Any], match_iou: float = 0.5) -> dict[str, float]:
    """motmetrics counts for one preprocessed sequence (TrackEval data dict)."""
    import motmetrics as mm

    acc = mm.MOTAccumulator(auto_id=True)
    for gt_ids, tr_ids, sim in zip(
        data["gt_ids"], data["tracker_ids"], data["similarity_scores"], strict=True
    ):
        dist = np.where(sim >= match_iou - np.finfo(np.float64).eps, 1.0 - sim, np.nan)
        acc.update(gt_ids, tr_ids, dist)
    summary = mm.metrics.create().compute(acc, metrics=list(COUNTS), return_dataframe=False)
    return {k: int(summary[k]) for k in COUNTS}


def scores_from_counts(counts: dict[str, float]) -> dict[str, float]:
    """MOTA and IDF1 (percent) from summed motmetrics counts (per sequence or combined)."""
    n_obj = max(1, counts["num_objects"])
    mota = (
        1 - (counts["num_misses"] + counts["num_switches"] + counts["num_false_positives"]) / n_obj
    )
    idf1 = 2 * counts["idtp"] / max(1, counts["num_objects"] + counts["num_predictions"])
    return {
        "MOTA": 100 * mota,
        "IDF1": 100 * idf1,
        "IDSW": counts["num_switches"],
        "FP": counts["num_false_positives"],
        "FN": counts["num_misses"],
    }


def combine_counts(per_seq: dict[str, dict[str, float]]) -> dict[str, float]:
    return {k: sum(c[k] for c in per_seq.values()) for k in COUNTS}
