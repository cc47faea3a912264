"""Tracking from Python: trackers over MOTChallenge sequences or a video, their MOTChallenge
scores, and what a MOTChallenge folder holds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from cvtool.api.detect import yolo_options
from cvtool.api.params import (
    NamesLike,
    PathLike,
    SizeLike,
    as_choice,
    as_names,
    as_optional_path,
    as_path,
    as_paths,
)
from cvtool.api.results import SequencesResult, TrackingEvalResult, TrackResult, VideoTrackResult
from cvtool.core.console import console, literal, quiet
from cvtool.core.errors import ParameterError, check_range
from cvtool.core.outputs import check_not_staging, check_out_not_input, visible

if TYPE_CHECKING:
    from cvtool.track.mot import SeqInfo
    from cvtool.track.run import TrackingRun
    from cvtool.track.video import VideoRun


def _sequences(root: PathLike, seqs: NamesLike) -> list[SeqInfo]:
    """The sequences of MOTChallenge split folder `root` named in `seqs` (default: all)."""
    from cvtool.track.mot import find_sequences

    return find_sequences(as_path(root, "root"), as_names(seqs, "seqs") or None)


def track_objects(
    root: PathLike,
    out: PathLike | None = None,
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
    threads: int | None = None,
    progress: bool = False,
    **tracker_options: Any,
) -> TrackResult:
    """Run a tracker frame by frame over MOTChallenge sequences (e.g. MOT17/train).

    Writes `out/TRACKER/SEQUENCE.txt` (MOTChallenge format) and `run.json`; several trackers
    written to one `out` are scored side by side by `evaluate_tracking(out, ...)`.

    Args:
        root: MOTChallenge split folder, e.g. `MOT17/train`.
        out: run folder; results go to `out/TRACKER/` (default: the first free
            `runs/track/TRACKER`, `TRACKER2`, ...).
        tracker: a registered tracker (`cvtool.track.registry.TRACKERS`): `iou`, `bytetrack`,
            or with the boxmot extra `ocsort`, `botsort`, `boosttrack`, `deepocsort`,
            `hybridsort`, `occluboost`, `sfsort`, `boxmot-bytetrack`.
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
        overwrite: replace an existing `out/TRACKER/` (and `out/detections/`, with `weights`).
        workers: processes tracking sequences in parallel (1: in this process).
        threads: the detector's torch intra-op threads (default: the cores this process may
            use; see `cvtool.core.threads`).
        progress: show progress and the speed table on stderr.
        **tracker_options: the tracker's settings (fields of its config dataclass in
            `cvtool.track.registry.TRACKERS`, e.g. `min_det_score`, `min_iou`, `max_lost`,
            `track_high_thresh`, `track_buffer`); unset ones keep their defaults.

    Returns:
        The tracker's result folder and per-sequence frames, boxes, tracks and frames/s.
    """
    from cvtool.core.artifacts import check_replaceable
    from cvtool.core.rundirs import next_run_dir
    from cvtool.track.config import DETECTOR_CONF
    from cvtool.track.registry import TRACKERS, make_config
    from cvtool.track.run import DETECTIONS_DIR, run_tracker

    name = as_choice(tracker, list(TRACKERS), "tracker")
    config = make_config(name, **tracker_options)
    check_range(interpolate, "interpolate", 0)
    check_range(workers, "workers", 1)
    if detections is not None and weights is not None:
        raise ParameterError("pass detections or weights, not both", "weights")
    if weights is not None:
        opts = yolo_options(size, DETECTOR_CONF if conf is None else conf, batch_size, device)
    out_dir = as_optional_path(out, "out") or next_run_dir("track", name)
    det_dir = as_optional_path(detections, "detections")
    if det_dir is not None:
        check_not_staging(det_dir, "detections")
    inputs = {"root": as_path(root, "root"), "detections": det_dir}
    inputs["weights"] = as_optional_path(weights, "weights")
    for written in (out_dir / name, out_dir / DETECTIONS_DIR if weights is not None else None):
        if written is not None:
            check_out_not_input(written, inputs)
            check_replaceable(written, overwrite)  # refused before the detector runs
    sequences = _sequences(root, seqs)
    with quiet(not progress):
        if weights is not None:
            from cvtool.core.threads import set_threads
            from cvtool.track.detector import detect_sequences

            set_threads(threads)
            det_dir = out_dir / DETECTIONS_DIR
            detect_sequences(sequences, str(weights), det_dir, opts, overwrite)
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
        _print_speed(run)
    summary = run.to_dict()
    return TrackResult(run.out, run.tracker, summary["config"], summary["sequences"])


def _print_speed(run: TrackingRun) -> None:
    """Frames, detections, boxes, tracks and tracker frames per second of each sequence."""
    from rich.table import Table

    table = Table(title=f"{run.tracker}: tracker speed")
    for column in ("sequence", "frames", "detections", "boxes", "tracks", "frames/s"):
        table.add_column(column, justify="left" if column == "sequence" else "right")
    for s in run.sequences:
        table.add_row(
            literal(s.name),
            str(s.frames),
            str(s.detections),
            str(s.boxes),
            str(s.tracks),
            f"{s.fps:.0f}",
        )
    console.print(table)


def track_video(
    source: PathLike,
    weights: PathLike,
    out: PathLike | None = None,
    tracker: str = "bytetrack",
    *,
    conf: float | None = None,
    size: SizeLike = 640,
    batch_size: int = 1,
    device: str = "auto",
    classes: NamesLike = None,
    frame_rate: float | None = None,
    render: bool = True,
    threads: int | None = None,
    overwrite: bool = False,
    progress: bool = False,
    **tracker_options: Any,
) -> VideoTrackResult:
    """Detect objects with a YOLO model in every frame of a video (or image folder) and track
    them.

    Writes `out/NAME.txt` (MOTChallenge results, frames from 1), `out/NAME.mp4` (the tracks
    drawn), `out/tracks.csv` (per track: first and last frame, length, boxes, gaps, missing
    frames, longest gap, mean score) and `out/run.json`; NAME is the video's (or folder's) name.

    Args:
        source: a video file (anything FFmpeg decodes: mp4, avi, mkv, ...) or a folder of
            images taken in name order.
        weights: local YOLO weights (`.pt`), or a model yaml (random weights); nothing is
            downloaded.
        out: output folder (default: the first free `runs/track/NAME-TRACKER`, ...).
        tracker: a registered tracker (`cvtool.track.registry.TRACKERS`).
        conf: the detector's score threshold (default `cvtool.track.config.DETECTOR_CONF`).
        size: detector input size, N or `"HxW"`.
        batch_size: frames per detector pass.
        device: detector device, `auto`, `cpu`, `cuda`, `cuda:N` or `mps`.
        classes: class names to track, `"person,car"` or a list (default: person when the
            model has it, else every class).
        frame_rate: frames per second (default: the video's; 30 for an image folder).
        render: write the mp4 with the tracks drawn.
        threads: the detector's torch intra-op threads (default: the cores this process may
            use; see `cvtool.core.threads`).
        overwrite: replace an existing `out`.
        progress: show progress and the summary table on stderr.
        **tracker_options: the tracker's settings, as for `track_objects`.

    Returns:
        The folder, the results and video files, counts, frames per second and the per-track
        statistics summary.
    """
    from cvtool.core.rundirs import next_run_dir
    from cvtool.core.threads import set_threads
    from cvtool.track.config import DETECTOR_CONF
    from cvtool.track.registry import TRACKERS, make_config
    from cvtool.track.video import track_video as run_video

    name = as_choice(tracker, list(TRACKERS), "tracker")
    config = make_config(name, **tracker_options)
    source_path, weights_path = as_path(source, "source"), as_path(weights, "weights")
    check_not_staging(source_path, "source")
    opts = yolo_options(size, DETECTOR_CONF if conf is None else conf, batch_size, device)
    if frame_rate is not None and not frame_rate > 0:
        raise ParameterError(f"frame_rate must be positive, got {frame_rate}", "frame_rate")
    out_dir = as_optional_path(out, "out") or next_run_dir("track", f"{source_path.stem}-{name}")
    check_out_not_input(out_dir, {"source": source_path, "weights": weights_path})
    set_threads(threads)
    with quiet(not progress):
        run = run_video(
            source_path,
            weights_path,
            out_dir,
            name,
            config,
            opts,
            as_names(classes, "classes") or None,
            frame_rate,
            render,
            overwrite,
        )
        _print_video(run)
    summary = run.to_dict()
    names = {f.name for f in fields(VideoTrackResult)} - {"path"}
    return VideoTrackResult(path=run.out, **{k: v for k, v in summary.items() if k in names})


def _print_video(run: VideoRun) -> None:
    """Counts, speeds and the track statistics of one video."""
    from rich.table import Table

    summary = run.to_dict()
    table = Table(title=f"{run.tracker} on {literal(run.source)}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    rows = {
        "frames": f"{run.frames} at {run.frame_rate:g} fps",
        "detections / boxes tracked": f"{run.detections} / {run.boxes}",
        "detector / tracker frames/s": " / ".join(
            "-" if summary[k] is None else f"{summary[k]:.1f}"
            for k in ("detector_fps", "tracker_fps")
        ),
        "tracks": str(run.tracks["tracks"]),
    }
    if run.tracks["tracks"]:
        stats = run.tracks
        rows["length: mean / median / max"] = (
            f"{stats['mean_length']:.1f} / {stats['median_length']:g} / {stats['max_length']}"
        )
        rows["tracks under 1 s"] = str(stats["short_tracks"])
        rows["tracks with gaps / gaps"] = f"{stats['tracks_with_gaps']} / {stats['gaps']}"
        rows["longest gap (frames)"] = str(stats["longest_gap"])
    for key, value in rows.items():
        table.add_row(key, value)
    console.print(table)


def evaluate_tracking(
    runs: PathLike | Sequence[PathLike],
    gt: PathLike,
    out: PathLike | None = None,
    *,
    seqs: NamesLike = None,
    cross_check: bool = True,
    plots: bool = True,
    per_sequence: bool = True,
    overwrite: bool = False,
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
        per_sequence: with `progress`, show a row per sequence in the table, not only the
            combined rows.
        overwrite: replace an earlier evaluation in `out` (in a run folder, only the
            evaluation's own files are replaced).
        progress: show progress and the table of scores on stderr.

    Returns:
        The folder, the sequences scored and each tracker's combined metrics.
    """
    from cvtool.core.artifacts import staged_output_dir
    from cvtool.track.eval_runs import OUTPUTS, default_output, evaluate_runs
    from cvtool.track.table import print_comparison

    run_dirs, gt_root = as_paths(runs, "runs"), as_path(gt, "gt")
    for run_dir in run_dirs:
        check_not_staging(run_dir, "run folder")
    target = as_optional_path(out, "out") or default_output(run_dirs)
    # A run folder among the inputs keeps its tracker folders; the evaluation adds its files.
    resolved = target.resolve()
    in_run_dir = resolved in {d.resolve() for d in run_dirs} and not visible(target, "*.txt")
    kept = [d for d in run_dirs if in_run_dir and resolved in (d.resolve(), *d.resolve().parents)]
    check_out_not_input(target, {"runs": [d for d in run_dirs if d not in kept], "gt": gt_root})
    with quiet(not progress):
        with staged_output_dir(target, overwrite, OUTPUTS if in_run_dir else None) as stage:
            report = evaluate_runs(
                run_dirs,
                gt_root,
                stage,
                seqs=as_names(seqs, "seqs") or None,
                cross_check=cross_check,
                plot=plots,
            )
        print_comparison(report.table, per_sequence=per_sequence)
    return TrackingEvalResult(target, report.sequences, report.combined(), report.table)


def describe_sequences(
    root: PathLike,
    out: PathLike = "track-info",
    *,
    seqs: NamesLike = None,
    overwrite: bool = False,
    progress: bool = False,
) -> SequencesResult:
    """What a MOTChallenge folder holds: frames, size, frame rate, boxes per frame.

    Writes `info.json`, `boxes_per_frame.png` and, when frames exist, `first_frames.png` (the
    first frame of each sequence).

    Args:
        root: MOTChallenge split folder, e.g. `MOT17/train`.
        out: where to write.
        seqs: sequence names, `"MOT17-02-FRCNN,MOT17-04-FRCNN"` or a list (default: all).
        overwrite: replace an existing non-empty `out`.
        progress: show the table of sequences on stderr.

    Returns:
        The folder and one dict per sequence (`frames`, `width`, `height`, `frame_rate`,
        `images`, `detections` and `ground_truth` box counts).
    """
    from cvtool.track.info import print_sequences, write_info

    out_dir = as_path(out, "out")
    check_out_not_input(out_dir, {"root": as_path(root, "root")})
    infos = write_info(_sequences(root, seqs), out_dir, overwrite)
    with quiet(not progress):
        print_sequences(as_path(root, "root"), infos)
    return SequencesResult(out_dir, infos)
