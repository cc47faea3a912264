"""Tracking from Python: trackers over MOTChallenge sequences, and their MOTChallenge scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cvtool.api.params import (
    NamesLike,
    PathLike,
    SizeLike,
    as_choice,
    as_names,
    as_optional_path,
    as_path,
    as_paths,
    as_size,
)
from cvtool.api.results import TrackingEvalResult, TrackResult
from cvtool.core.console import quiet
from cvtool.core.errors import ParameterError


def track_objects(
    root: PathLike,
    out: PathLike,
    tracker: str = "bytetrack",
    *,
    seqs: NamesLike = None,
    detections: PathLike | None = None,
    weights: PathLike | None = None,
    conf: float | None = None,
    size: SizeLike = 640,
    batch_size: int = 1,
    device: str = "auto",
    interpolate: int = 0,
    render: bool = False,
    overwrite: bool = False,
    workers: int = 1,
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
        conf: the detector's score threshold (with `weights`; default
            `cvtool.track.config.DETECTOR_CONF`).
        size: detector input size, N or `"HxW"` (with `weights`).
        batch_size: frames per detector pass (with `weights`).
        device: detector device, `auto`, `cpu`, `cuda`, `cuda:N` or `mps` (with `weights`).
        interpolate: fill track gaps of up to this many frames linearly.
        render: also write `out/TRACKER/videos/SEQUENCE.mp4`.
        overwrite: replace an existing `out/TRACKER/`.
        workers: processes tracking sequences in parallel (1: in this process).
        progress: show progress and the speed table on stderr.
        **tracker_options: the tracker's settings (fields of its config dataclass in
            `cvtool.track.registry.TRACKERS`, e.g. `min_det_score`, `min_iou`, `max_lost`,
            `track_high_thresh`, `track_buffer`); unset ones keep their defaults.

    Returns:
        The tracker's result folder and per-sequence frames, boxes, tracks and frames/s.
    """
    from cvtool.track.config import DETECTOR_CONF
    from cvtool.track.mot import find_sequences
    from cvtool.track.registry import TRACKERS, make_config
    from cvtool.track.run import DETECTIONS_DIR, run_tracker

    name = as_choice(tracker, list(TRACKERS), "tracker")
    config = make_config(name, **tracker_options)
    if detections is not None and weights is not None:
        raise ParameterError("pass detections or weights, not both", "weights")
    out_dir, det_dir = as_path(out, "out"), as_optional_path(detections, "detections")
    sequences = find_sequences(as_path(root, "root"), as_names(seqs, "seqs") or None)
    with quiet(not progress):
        if weights is not None:
            from cvtool.detect.yolo import YoloOptions
            from cvtool.track.detector import detect_sequences

            opts = YoloOptions(
                imgsz=as_size(size, "size"),
                conf=DETECTOR_CONF if conf is None else conf,
                batch=batch_size,
                device=device,
            )
            det_dir = detect_sequences(sequences, str(weights), out_dir / DETECTIONS_DIR, opts)
        run = run_tracker(
            sequences,
            name,
            out_dir,
            config=config,
            detections=det_dir,
            interpolate=interpolate,
            render=render,
            overwrite=overwrite,
            workers=workers,
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
        runs: run folders written by `track_objects` (holding `TRACKER/`), or tracker folders
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
            seqs=as_names(seqs, "seqs") or None,
            cross_check=cross_check,
            plot=plots,
        )
    return TrackingEvalResult(target, report.sequences, report.combined(), report.table)
