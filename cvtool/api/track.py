"""Tracking from Python: trackers over MOTChallenge sequences, and their MOTChallenge scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cvtool.api.params import (
    NamesLike,
    PathLike,
    as_choice,
    as_dataclass,
    as_names,
    as_optional_path,
    as_path,
    as_paths,
)
from cvtool.api.results import TrackingEvalResult, TrackResult
from cvtool.core.console import quiet
from cvtool.core.errors import ParameterError


def track(
    root: PathLike,
    out: PathLike,
    tracker: str = "bytetrack",
    *,
    seqs: NamesLike = None,
    detections: PathLike | None = None,
    weights: PathLike | None = None,
    yolo_conf: float = 0.1,
    min_conf: float = 0.0,
    interpolate: int = 0,
    render: bool = False,
    overwrite: bool = False,
    progress: bool = False,
    **tracker_options: Any,
) -> TrackResult:
    """Run a tracker frame by frame over MOTChallenge sequences (e.g. MOT17/train).

    Writes `out/TRACKER/SEQUENCE.txt` (MOTChallenge format) and `run.json`; several trackers
    written to one `out` are scored side by side by `evaluate_tracking(out, ...)`.

    Args:
        root: MOTChallenge split folder, e.g. `MOT17/train`.
        out: run folder; results go to `out/TRACKER/`.
        tracker: `iou` or `bytetrack`.
        seqs: sequence names, `"MOT17-02-FRCNN,MOT17-04-FRCNN"` or a list (default: all).
        detections: folder of `SEQUENCE.txt` MOT detection files (default: each sequence's
            public `det/det.txt`).
        weights: YOLO weights (`.pt`) or model yaml: detect on `img1/` instead of using
            `detections`.
        yolo_conf: YOLO confidence threshold (with `weights`).
        min_conf: drop detections scoring below this.
        interpolate: fill track gaps of up to this many frames linearly.
        render: also write `out/TRACKER/videos/SEQUENCE.mp4`.
        overwrite: replace an existing `out/TRACKER/`.
        progress: show progress and the speed table on stderr.
        **tracker_options: the tracker's settings (fields of
            `cvtool.track.config.IouTrackerConfig` or `ByteTrackConfig`, e.g. `min_iou`,
            `max_lost`, `track_high_thresh`, `track_buffer`); unset ones keep their defaults.

    Returns:
        The tracker's result folder and per-sequence frames, boxes, tracks and frames/s.
    """
    from cvtool.track.mot import find_sequences
    from cvtool.track.run import DETECTIONS_DIR, TRACKER_CONFIGS, run_tracker

    name = as_choice(tracker, list(TRACKER_CONFIGS), "tracker")
    config = as_dataclass(TRACKER_CONFIGS[name], tracker_options, f"tracker {name!r}")
    if detections is not None and weights is not None:
        raise ParameterError("pass detections or weights, not both", "weights")
    out_dir, det_dir = as_path(out, "out"), as_optional_path(detections, "detections")
    sequences = find_sequences(as_path(root, "root"), as_names(seqs, "seqs") or None)
    with quiet(not progress):
        if weights is not None:
            from cvtool.track.detector import detect_sequences

            det_dir = detect_sequences(
                sequences, str(weights), out_dir / DETECTIONS_DIR, conf=yolo_conf
            )
        run = run_tracker(
            sequences,
            name,
            out_dir,
            config=config,
            detections=det_dir,
            min_conf=min_conf,
            interpolate=interpolate,
            render=render,
            overwrite=overwrite,
        )
    return TrackResult(run.out, run.tracker, run.to_dict()["sequences"])


def evaluate_tracking(
    runs: PathLike | Sequence[PathLike],
    gt: PathLike,
    out: PathLike | None = None,
    *,
    seqs: NamesLike = None,
    cross_check: bool = True,
    plots: bool = True,
    progress: bool = False,
) -> TrackingEvalResult:
    """Score tracker results with the MOTChallenge rules (TrackEval), trackers side by side.

    HOTA, DetA, AssA, MOTA, MOTP, IDF1, IDSW, FP, FN, MT, ML, Frag per sequence and combined;
    writes `metrics.csv`, `summary.json` and `plots/metrics.png`.

    Args:
        runs: run folders written by `track` (holding `TRACKER/`), or tracker folders
            (holding `SEQUENCE.txt`).
        gt: ground-truth split folder, e.g. `MOT17/train`.
        out: where to write (default: the first of `runs`, when it is a run folder).
        seqs: sequences to score (default: those with results).
        cross_check: recount the CLEAR and identity metrics with motmetrics.
        plots: draw `plots/metrics.png`.
        progress: show progress on stderr.

    Returns:
        The folder, the sequences scored and each tracker's combined metrics.
    """
    from cvtool.track.eval_runs import default_output, evaluate_runs

    run_dirs = as_paths(runs, "runs")
    target = as_optional_path(out, "out") or default_output(run_dirs)
    with quiet(not progress):
        report = evaluate_runs(
            run_dirs,
            as_path(gt, "gt"),
            target,
            seq_names=as_names(seqs, "seqs") or None,
            cross_check=cross_check,
            plot=plots,
        )
    return TrackingEvalResult(target, report.sequences, report.combined(), report.table)
