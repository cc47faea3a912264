"""Score tracker results with the MOTChallenge rules: TrackEval's HOTA, CLEAR and Identity.

Files are loaded here (vectorised) and preprocessed exactly as TrackEval's `MotChallenge2DBox`
does: tracker boxes matched (IoU >= 0.5, Hungarian) to ground truth of a distractor class
(person on vehicle, static person, distractor, reflection) are dropped, and only pedestrian
ground truth with a non-zero "consider" flag is kept. TrackEval's metric classes then score the
data in-process, with no temporary folders. `cvtool.track.reference` runs TrackEval's own
pipeline for comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.boxes import corners, iou_pairs
from cvtool.core.errors import CvtoolError
from cvtool.track.mot import CONF, FRAME, GT_CLASS, ID, SeqInfo, frame_offsets, read_mot_txt

PEDESTRIAN = 1
DISTRACTOR_CLASSES = (2, 7, 8, 12)  # person_on_vehicle, static_person, distractor, reflection
VALID_GT_CLASSES = tuple(range(1, 14))
MATCH_IOU = 0.5
_EPS = np.finfo(np.float64).eps

# Column name in tables -> (TrackEval metric, field, scale); HOTA fields are averaged over alpha.
SUMMARY_FIELDS: dict[str, tuple[str, str, float]] = {
    "HOTA": ("HOTA", "HOTA", 100),
    "DetA": ("HOTA", "DetA", 100),
    "AssA": ("HOTA", "AssA", 100),
    "MOTA": ("CLEAR", "MOTA", 100),
    "MOTP": ("CLEAR", "MOTP", 100),
    "IDF1": ("Identity", "IDF1", 100),
    "IDSW": ("CLEAR", "IDSW", 1),
    "FP": ("CLEAR", "CLR_FP", 1),
    "FN": ("CLEAR", "CLR_FN", 1),
    "MT": ("CLEAR", "MT", 1),
    "ML": ("CLEAR", "ML", 1),
    "Frag": ("CLEAR", "Frag", 1),
}
COMBINED = "COMBINED"


def _check_unique_ids(ids: np.ndarray, frames: np.ndarray, path: Path, what: str) -> None:
    pairs = np.stack([frames, ids], axis=1)
    uniq, counts = np.unique(pairs, axis=0, return_counts=True)
    if (counts > 1).any():
        frame, dup = uniq[np.argmax(counts > 1)]
        raise CvtoolError(
            f"{what} {path}: id {int(dup)} appears more than once in frame {int(frame)}",
            "each id may have at most one box per frame",
        )


def load_ground_truth(seq: SeqInfo) -> np.ndarray:
    gt = read_mot_txt(seq.gt_path, "ground-truth file", min_columns=8, length=seq.length)
    classes = gt[:, GT_CLASS].astype(int)
    invalid = np.setdiff1d(np.unique(classes), VALID_GT_CLASSES)
    if invalid.size:
        raise CvtoolError(
            f"ground-truth file {seq.gt_path}: unknown class id(s) {invalid.tolist()}",
            "MOTChallenge classes are 1-13 (1 = pedestrian)",
        )
    _check_unique_ids(gt[:, ID].astype(int), gt[:, FRAME], seq.gt_path, "ground-truth file")
    return gt


def load_results(path: Path, length: int) -> np.ndarray:
    res = read_mot_txt(path, "tracker result file", min_columns=7, length=length)
    if len(res) and res[:, GT_CLASS].max() > PEDESTRIAN:
        raise CvtoolError(
            f"tracker result file {path}: class column 8 holds {res[:, GT_CLASS].max():g}",
            "MOTChallenge scoring covers pedestrians only: use 1 or -1 in column 8",
        )
    _check_unique_ids(res[:, ID].astype(int), res[:, FRAME], path, "tracker result file")
    return res


def _relabel(ids: np.ndarray) -> tuple[np.ndarray, int]:
    """Ids -> 0..n-1 in sorted order (as TrackEval relabels)."""
    uniq = np.unique(ids)
    return np.searchsorted(uniq, ids), len(uniq)


def _frame_pairs(g_off: np.ndarray, r_off: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every (gt row, result row) pair of the same frame, frame by frame, row-major.

    Returns the pairs' frame (0-based), gt row and result row.
    """
    ng, nr = np.diff(g_off), np.diff(r_off)
    counts = ng * nr
    frame = np.repeat(np.arange(len(ng)), counts)
    local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return frame, g_off[frame] + local // nr[frame], r_off[frame] + local % nr[frame]


def _split(values: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    """Per-frame pieces of frame-sorted `values` (`offsets` from `frame_offsets`)."""
    return np.split(values, offsets[1:-1])


def _split_matrices(flat: np.ndarray, g_off: np.ndarray, r_off: np.ndarray) -> list[np.ndarray]:
    """Per-frame (gt x result) matrices from the row-major pair values of `_frame_pairs`."""
    ng, nr = np.diff(g_off), np.diff(r_off)
    pieces = _split(flat, np.concatenate([[0], np.cumsum(ng * nr)]))
    return [p.reshape(a, b) for p, a, b in zip(pieces, ng, nr, strict=True)]


def _distractor_matches(
    gt: np.ndarray, g_off: np.ndarray, r_off: np.ndarray, sims: list[np.ndarray], frames
) -> np.ndarray:
    """Result rows matched (IoU >= 0.5, Hungarian over all ground truth) to a distractor."""
    from scipy.optimize import linear_sum_assignment

    removed = []
    for t in frames:
        score = sims[t].copy()
        score[score < MATCH_IOU - _EPS] = 0
        rows, cols = linear_sum_assignment(-score)
        ok = score[rows, cols] > _EPS
        rows, cols = rows[ok], cols[ok]
        classes = gt[g_off[t] + rows, GT_CLASS].astype(int)
        removed.append(r_off[t] + cols[np.isin(classes, DISTRACTOR_CLASSES)])
    return np.concatenate(removed) if removed else np.empty(0, np.int64)


def preprocess(gt: np.ndarray, res: np.ndarray, length: int, name: str) -> dict[str, Any]:
    """The data dict TrackEval's metrics take, built with the MOTChallenge 2D-box rules.

    All IoUs are computed in one vectorised pass; the Hungarian distractor matching runs only
    in frames where a distractor overlaps some result box by IoU >= 0.5 (elsewhere it cannot
    remove anything).
    """
    g_off, r_off = frame_offsets(gt, length), frame_offsets(res, length)
    frame, gi, ri = _frame_pairs(g_off, r_off)
    sim_flat = iou_pairs(corners(gt[:, 2:6])[:, gi], corners(res[:, 2:6])[:, ri])
    sims = _split_matrices(sim_flat, g_off, r_off)
    distractor = np.isin(gt[:, GT_CLASS].astype(int), DISTRACTOR_CLASSES)
    candidate = (sim_flat >= MATCH_IOU - _EPS) & distractor[gi]
    keep_r = np.ones(len(res), bool)
    keep_r[_distractor_matches(gt, g_off, r_off, sims, np.unique(frame[candidate]))] = False
    keep_g = (gt[:, CONF].astype(int) != 0) & (gt[:, GT_CLASS].astype(int) == PEDESTRIAN)

    sim_kept = sim_flat[keep_g[gi] & keep_r[ri]]
    g_kept, r_kept = gt[keep_g], res[keep_r]
    g2, r2 = frame_offsets(g_kept, length), frame_offsets(r_kept, length)
    gt_ids, num_gt_ids = _relabel(g_kept[:, ID].astype(int))
    tr_ids, num_tr_ids = _relabel(r_kept[:, ID].astype(int))
    return {
        "gt_ids": _split(gt_ids, g2),
        "tracker_ids": _split(tr_ids, r2),
        "gt_dets": _split(g_kept[:, 2:6], g2),
        "tracker_dets": _split(r_kept[:, 2:6], r2),
        "tracker_confidences": _split(r_kept[:, CONF], r2),
        "similarity_scores": _split_matrices(sim_kept, g2, r2),
        "num_gt_dets": len(g_kept),
        "num_tracker_dets": len(r_kept),
        "num_gt_ids": num_gt_ids,
        "num_tracker_ids": num_tr_ids,
        "num_timesteps": length,
        "seq": name,
    }


def trackeval_metrics() -> list[Any]:
    from trackeval.metrics import CLEAR, HOTA, Identity

    quiet = {"PRINT_CONFIG": False, "THRESHOLD": MATCH_IOU}
    return [HOTA(), CLEAR(quiet), Identity(quiet)]


def summarise(res: dict[str, dict[str, Any]]) -> dict[str, float]:
    """TrackEval result dicts (by metric name) -> the table's columns."""
    out = {}
    for column, (metric, name, scale) in SUMMARY_FIELDS.items():
        value = res[metric][name]
        value = float(np.mean(value)) if np.ndim(value) else float(value)
        out[column] = value * scale if scale != 1 else round(value)
    return out


@dataclass
class TrackerScores:
    """One tracker: TrackEval results per sequence plus `COMBINED`, and the cross-check."""

    tracker: str
    raw: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    cross_check: dict[str, dict[str, float]] = field(default_factory=dict)

    def table(self) -> dict[str, dict[str, float]]:
        return {seq: summarise(res) for seq, res in self.raw.items()}


def score_tracker(
    tracker: str,
    result_dir: Path,
    seqs: list[SeqInfo],
    gts: dict[str, np.ndarray],
    cross_check: bool = True,
) -> TrackerScores:
    """Score `<result_dir>/<seq>.txt` for each sequence; `COMBINED` sums over sequences."""
    metrics = trackeval_metrics()
    scores = TrackerScores(tracker)
    per_metric: dict[str, dict[str, Any]] = {m.get_name(): {} for m in metrics}
    for seq in seqs:
        path = result_dir / f"{seq.name}.txt"
        if not path.is_file():
            raise CvtoolError(
                f"tracker {tracker!r} has no result for {seq.name}: {path} not found",
                "track every sequence you evaluate, or evaluate only the tracked ones",
                param="seqs",
            )
        data = preprocess(gts[seq.name], load_results(path, seq.length), seq.length, seq.name)
        scores.raw[seq.name] = {}
        for m in metrics:
            res = m.eval_sequence(data)
            per_metric[m.get_name()][seq.name] = res
            scores.raw[seq.name][m.get_name()] = res
        if cross_check:
            from cvtool.track.motmetrics_check import clear_id_with_motmetrics

            scores.cross_check[seq.name] = clear_id_with_motmetrics(data)
    scores.raw[COMBINED] = {
        m.get_name(): m.combine_sequences(per_metric[m.get_name()]) for m in metrics
    }
    return scores
