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

from cvtool.errors import CvtoolError
from cvtool.track.boxes import iou_tlwh
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


def _relabel(ids_per_frame: list[np.ndarray]) -> tuple[list[np.ndarray], int]:
    flat = np.concatenate(ids_per_frame) if ids_per_frame else np.empty(0, int)
    uniq = np.unique(flat)
    return [np.searchsorted(uniq, ids) for ids in ids_per_frame], len(uniq)


def preprocess(gt: np.ndarray, res: np.ndarray, length: int, name: str) -> dict[str, Any]:
    """The data dict TrackEval's metrics take, built with the MOTChallenge 2D-box rules."""
    from scipy.optimize import linear_sum_assignment

    g_off, r_off = frame_offsets(gt, length), frame_offsets(res, length)
    gt_ids, tr_ids, gt_dets, tr_dets, tr_conf, sims = [], [], [], [], [], []
    for t in range(length):
        g = gt[g_off[t] : g_off[t + 1]]
        r = res[r_off[t] : r_off[t + 1]]
        sim = iou_tlwh(g[:, 2:6], r[:, 2:6])
        remove = np.empty(0, np.int64)
        if len(g) and len(r):
            score = sim.copy()
            score[score < MATCH_IOU - _EPS] = 0
            rows, cols = linear_sum_assignment(-score)
            ok = score[rows, cols] > _EPS
            rows, cols = rows[ok], cols[ok]
            remove = cols[np.isin(g[rows, GT_CLASS].astype(int), DISTRACTOR_CLASSES)]
        r = np.delete(r, remove, axis=0)
        sim = np.delete(sim, remove, axis=1)
        keep = (g[:, CONF].astype(int) != 0) & (g[:, GT_CLASS].astype(int) == PEDESTRIAN)
        g = g[keep]
        gt_ids.append(g[:, ID].astype(int))
        tr_ids.append(r[:, ID].astype(int))
        gt_dets.append(g[:, 2:6])
        tr_dets.append(r[:, 2:6])
        tr_conf.append(r[:, CONF])
        sims.append(sim[keep])
    gt_ids, num_gt_ids = _relabel(gt_ids)
    tr_ids, num_tr_ids = _relabel(tr_ids)
    return {
        "gt_ids": gt_ids,
        "tracker_ids": tr_ids,
        "gt_dets": gt_dets,
        "tracker_dets": tr_dets,
        "tracker_confidences": tr_conf,
        "similarity_scores": sims,
        "num_gt_dets": int(sum(len(x) for x in gt_ids)),
        "num_tracker_dets": int(sum(len(x) for x in tr_ids)),
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
                "track every sequence you evaluate, or pick sequences with --seqs",
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
