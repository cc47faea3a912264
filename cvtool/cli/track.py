"""`cvtool track ...`: multi-object tracking on MOTChallenge sequences, and its scoring."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from cvtool.cli.common import CommandResult, parse_csv_list, stage_command
from cvtool.track.config import ByteTrackConfig, IouTrackerConfig

app = typer.Typer(
    no_args_is_help=True,
    help="Track objects in MOTChallenge sequences (IoU tracker, ByteTrack) and score them.",
)

_IOU = IouTrackerConfig()
_BYTE = ByteTrackConfig()
_BYTE_HELP = "ByteTrack"


class TrackerName(str, Enum):
    iou = "iou"
    bytetrack = "bytetrack"


class Detector(str, Enum):
    public = "public"
    yolo = "yolo"


@stage_command(app, "mot17")
def mot17(
    root: Path = typer.Option(..., help="MOTChallenge split folder, e.g. MOT17/train."),
    out: Path = typer.Option(..., help="Run folder; results go to OUT/<tracker>/."),
    tracker: TrackerName = typer.Option(TrackerName.bytetrack, help="Tracker to run."),
    seqs: str = typer.Option("", help="Comma-separated sequence names (default: all)."),
    detections: str = typer.Option(
        "public", help="'public' (det/det.txt) or a folder of <sequence>.txt MOT det files."
    ),
    detector: Detector = typer.Option(
        Detector.public, help="'yolo' runs --weights on img1/ and tracks those detections."
    ),
    weights: str = typer.Option("", help="YOLO weights (.pt) or model .yaml for --detector yolo."),
    yolo_conf: float = typer.Option(0.1, help="YOLO confidence threshold."),
    min_conf: float = typer.Option(0.0, help="Drop detections scoring below this."),
    min_iou: float = typer.Option(_IOU.min_iou, help="IoU tracker: match threshold."),
    max_lost: int = typer.Option(_IOU.max_lost, help="IoU tracker: frames a track survives."),
    hungarian: bool = typer.Option(_IOU.hungarian, help="IoU tracker: optimal matching."),
    track_high_thresh: float = typer.Option(
        _BYTE.track_high_thresh, help=f"{_BYTE_HELP}: first-association score threshold."
    ),
    track_low_thresh: float = typer.Option(
        _BYTE.track_low_thresh, help=f"{_BYTE_HELP}: lowest score used (second association)."
    ),
    new_track_thresh: float = typer.Option(
        _BYTE.new_track_thresh, help=f"{_BYTE_HELP}: score needed to start a track."
    ),
    track_buffer: int = typer.Option(
        _BYTE.track_buffer, help=f"{_BYTE_HELP}: frames (at 30 fps) a lost track is kept."
    ),
    match_thresh: float = typer.Option(
        _BYTE.match_thresh, help=f"{_BYTE_HELP}: max cost (1 - IoU) of a first-stage match."
    ),
    fuse_score: bool = typer.Option(
        _BYTE.fuse_score, help=f"{_BYTE_HELP}: weigh IoU by detection score."
    ),
    detection_boxes: bool = typer.Option(
        _BYTE.detection_boxes,
        "--detection-boxes/--kalman-boxes",
        help=f"{_BYTE_HELP}: report matched detection boxes, or the Kalman-filtered ones.",
    ),
    interpolate: int = typer.Option(0, help="Fill track gaps of up to N frames linearly."),
    render: bool = typer.Option(False, help="Write OUT/<tracker>/videos/<sequence>.mp4."),
    overwrite: bool = typer.Option(False, help="Replace an existing OUT/<tracker>/."),
) -> CommandResult:
    """Run a tracker frame by frame over MOTChallenge sequences.

    Writes OUT/<tracker>/<sequence>.txt (MOTChallenge format) and run.json (settings, frames/s).

    Example:

        cvtool track mot17 --root MOT17/train --tracker bytetrack --out runs/track
    """
    from cvtool.core.console import console
    from cvtool.track.mot import find_sequences
    from cvtool.track.run import DETECTIONS_DIR, run_tracker

    sequences = find_sequences(root, parse_csv_list(seqs) or None)
    det_dir = None if detections == "public" else Path(detections)
    if detector is Detector.yolo:
        if not weights:
            raise typer.BadParameter("--detector yolo needs --weights", param_hint="--weights")
        from cvtool.track.detector import detect_sequences

        det_dir = detect_sequences(sequences, weights, out / DETECTIONS_DIR, conf=yolo_conf)
    if tracker is TrackerName.iou:
        config: object = IouTrackerConfig(min_iou, max_lost, hungarian)
    else:
        config = ByteTrackConfig(
            track_high_thresh,
            track_low_thresh,
            new_track_thresh,
            track_buffer,
            match_thresh,
            fuse_score,
            detection_boxes,
        )
    run = run_tracker(
        sequences,
        tracker.value,
        out,
        config=config,
        detections=det_dir,
        min_conf=min_conf,
        interpolate=interpolate,
        render=render,
        overwrite=overwrite,
    )
    from rich.table import Table

    table = Table(title=f"{tracker.value}: tracker speed")
    for column in ("sequence", "frames", "detections", "boxes", "tracks", "frames/s"):
        table.add_column(column, justify="left" if column == "sequence" else "right")
    for s in run.sequences:
        table.add_row(
            s.name, str(s.frames), str(s.detections), str(s.boxes), str(s.tracks), f"{s.fps:.0f}"
        )
    console.print(table)
    return CommandResult(run.out, {"run": run.to_dict()})


@stage_command(app, "eval")
def evaluate(
    run_dirs: list[Path] = typer.Argument(
        ..., help="Run folders (holding <tracker>/) or tracker folders (holding <seq>.txt)."
    ),
    gt: Path = typer.Option(..., help="Ground-truth split folder, e.g. MOT17/train."),
    out: Path | None = typer.Option(
        None, help="Where to write (default: the first RUN_DIR, when it is a run folder)."
    ),
    seqs: str = typer.Option("", help="Comma-separated sequences (default: those with results)."),
    cross_check: bool = typer.Option(True, help="Recount CLEAR/ID metrics with motmetrics."),
    per_sequence: bool = typer.Option(True, help="Show per-sequence rows in the table."),
) -> CommandResult:
    """Score tracker results with the MOTChallenge rules (TrackEval), trackers side by side.

    HOTA, DetA, AssA, MOTA, MOTP, IDF1, IDSW, FP, FN, MT, ML, Frag per sequence and combined.

    Writes metrics.csv, summary.json and plots/metrics.png; motmetrics recounts MOTA/IDF1.

    Example:

        cvtool track eval runs/track --gt MOT17/train
    """
    from cvtool.track.eval_runs import default_output, evaluate_runs
    from cvtool.track.table import print_comparison

    target = out or default_output(run_dirs)
    report = evaluate_runs(
        run_dirs, gt, target, seq_names=parse_csv_list(seqs) or None, cross_check=cross_check
    )
    print_comparison(report.table, per_sequence=per_sequence)
    return CommandResult(target, {"combined": report.combined(), "sequences": report.sequences})


@stage_command(app, "info")
def info(
    root: Path = typer.Argument(..., help="MOTChallenge split folder, e.g. MOT17/train."),
    out: Path = typer.Option(Path("track-info"), help="Where to write info.json and images."),
    seqs: str = typer.Option("", help="Comma-separated sequence names (default: all)."),
) -> CommandResult:
    """Describe MOTChallenge sequences: frames, size, frame rate, boxes per frame.

    Counts detections and ground-truth boxes per frame; writes info.json and, when frames exist,
    first_frames.png (the first frame of each sequence).

    Example:

        cvtool track info MOT17/train --out runs/mot17-info
    """
    from rich.table import Table

    from cvtool.track.info import write_info
    from cvtool.track.mot import find_sequences
    from cvtool.track.table import print_wide

    infos = write_info(find_sequences(root, parse_csv_list(seqs) or None), out)
    table = Table(title=f"{root}")
    for column in (
        "sequence",
        "frames",
        "size",
        "fps",
        "images",
        "dets/frame",
        "gt/frame",
        "gt tracks",
    ):
        table.add_column(column, justify="left" if column == "sequence" else "right")
    for i in infos:
        det, gtinfo = i["detections"], i["ground_truth"]
        table.add_row(
            i["name"],
            str(i["frames"]),
            f"{i['width']}x{i['height']}",
            f"{i['frame_rate']:g}",
            str(i["images"]),
            f"{det['mean_per_frame']:.1f} (max {det['max_per_frame']})" if det else "-",
            f"{gtinfo['mean_per_frame']:.1f} (max {gtinfo['max_per_frame']})" if gtinfo else "-",
            str(gtinfo["tracks"]) if gtinfo else "-",
        )
    print_wide(table)
    return CommandResult(out, {"sequences": infos})
