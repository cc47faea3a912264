"""`cvtool track ...`: multi-object tracking on MOTChallenge sequences or a video, and scoring.

The tracker settings options of `track mot17` and `track video` are not written here: one option
per field of each registered tracker's config dataclass (`cvtool.track.registry.TRACKERS`), so a
new tracker brings its options with it.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import Field, fields
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from cvtool.cli.common import CommandResult, overwrite_option, stage_command, threads_option
from cvtool.core.device import DEVICE_HELP
from cvtool.track.config import DETECTOR_CONF
from cvtool.track.registry import TRACKERS

app = typer.Typer(
    no_args_is_help=True,
    help="Track objects in MOTChallenge sequences or a video, and score them.",
)

TrackerName = Enum("TrackerName", {name: name for name in TRACKERS}, type=str)  # type: ignore[misc]
DEFAULT_TRACKER = "bytetrack"
SETTINGS_PANEL = "Tracker settings"


class Detector(str, Enum):
    public = "public"
    yolo = "yolo"


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _shown(value: object) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else str(value)


def _setting_help(text: str, owners: dict[str, Field]) -> str:
    """The field's help, which trackers have it (when not all do) and their defaults."""
    scope = "" if len(owners) == len(TRACKERS) else f"{', '.join(owners)} only; "
    defaults = {tracker: _shown(f.default) for tracker, f in owners.items()}
    if len(set(defaults.values())) == 1:
        shown = next(iter(defaults.values()))
    else:
        shown = ", ".join(f"{value} ({tracker})" for tracker, value in defaults.items())
    return f"{text} ({scope}default {shown})"


def tracker_setting_options() -> list[inspect.Parameter]:
    """One keyword option per tracker config field, in registry order. The default None stands
    for the tracker's own default, so a setting the chosen tracker lacks can be refused."""
    owners: dict[str, dict[str, Field]] = {}
    types: dict[str, Any] = {}
    for tracker, spec in TRACKERS.items():
        hints = typing.get_type_hints(spec.config)
        for f in fields(spec.config):
            owners.setdefault(f.name, {})[tracker] = f
            types.setdefault(f.name, hints[f.name])
    options = []
    for name, by_tracker in owners.items():
        metadata = next(iter(by_tracker.values())).metadata
        flag = _flag(name)
        if types[name] is bool:
            flag += "/" + _flag(metadata.get("off", f"no_{name}"))
        panel = SETTINGS_PANEL
        if len(by_tracker) < len(TRACKERS):  # listed with the first tracker that has it
            panel += f": {next(iter(by_tracker))}"
        option = typer.Option(
            None,
            flag,
            help=_setting_help(metadata["help"], by_tracker),
            rich_help_panel=panel,
            show_default=False,
        )
        options.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=types[name] | None
            )
        )
    return options


def with_tracker_settings(fn: Callable[..., CommandResult]) -> Callable[..., CommandResult]:
    """Declare `fn`'s `**settings` as the tracker setting options (for Typer)."""
    signature = inspect.signature(fn)
    params = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    fn.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*params, *tracker_setting_options()]
    )
    return fn


@stage_command(app, "mot17")
@with_tracker_settings
def mot17(
    root: Path = typer.Option(..., help="MOTChallenge split folder, e.g. MOT17/train."),
    out: Path | None = typer.Option(
        None,
        help="Run folder; results go to OUT/<tracker>/ "
        "(default: runs/track/<tracker>, numbered when taken).",
    ),
    tracker: TrackerName = typer.Option(  # type: ignore[valid-type]
        DEFAULT_TRACKER,
        help="Tracker to run: "
        + "; ".join(f"{name}: {spec.summary}" for name, spec in TRACKERS.items())
        + ".",
    ),
    seqs: str = typer.Option("", help="Comma-separated sequence names (default: all)."),
    detections: str = typer.Option(
        "public", help="'public' (det/det.txt) or a folder of <sequence>.txt MOT det files."
    ),
    detector: Detector = typer.Option(
        Detector.public, help="'yolo' runs --weights on img1/ and tracks those detections."
    ),
    weights: str = typer.Option("", help="YOLO weights (.pt) or model .yaml for --detector yolo."),
    conf: float = typer.Option(DETECTOR_CONF, help="Detector score threshold (--detector yolo)."),
    size: str = typer.Option(
        "640", help="Detector input size: N (longest side) or HxW (--detector yolo)."
    ),
    batch_size: int = typer.Option(1, min=1, help="Frames per detector pass (--detector yolo)."),
    device: str = typer.Option("auto", help=f"Detector device: {DEVICE_HELP}."),
    threads: int | None = threads_option(),
    workers: int = typer.Option(
        1, min=1, help="Processes tracking sequences in parallel (1: in this process)."
    ),
    interpolate: int = typer.Option(0, help="Fill track gaps of up to N frames linearly."),
    render: bool = typer.Option(
        False, "--render", help="Write OUT/<tracker>/videos/<sequence>.mp4."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace an existing OUT/<tracker>/."
    ),
    **settings: Any,
) -> CommandResult:
    """Run a tracker frame by frame over MOTChallenge sequences.

    Writes OUT/<tracker>/<sequence>.txt (MOTChallenge format) and run.json (settings, frames/s).
    Tracker settings left unset take the chosen tracker's defaults; setting one that the chosen
    tracker does not have is an error.

    Example:

        cvtool track mot17 --root MOT17/train --tracker bytetrack --out runs/track
    """
    from cvtool.api.track import track_objects

    yolo = detector is Detector.yolo
    if yolo and not weights:
        raise typer.BadParameter("--detector yolo needs --weights", param_hint="--weights")
    result = track_objects(
        root,
        out,
        tracker.value,
        seqs=seqs,
        detections=None if yolo or detections == "public" else detections,
        weights=weights if yolo else None,
        conf=conf,
        size=size,
        batch_size=batch_size,
        device=device,
        interpolate=interpolate,
        render=render,
        overwrite=overwrite,
        workers=workers,
        threads=threads,
        progress=True,
        **{name: value for name, value in settings.items() if value is not None},
    )
    run = {"tracker": result.tracker, "config": result.config, "sequences": result.sequences}
    return CommandResult(result.path, {"run": run})


@stage_command(app, "video")
@with_tracker_settings
def video(
    source: Path = typer.Argument(..., help="Video file (mp4, avi, mkv, ...) or image folder."),
    weights: str = typer.Option(
        ..., help="YOLO weights (.pt) or model .yaml; nothing is downloaded."
    ),
    tracker: TrackerName = typer.Option(  # type: ignore[valid-type]
        DEFAULT_TRACKER, help="Tracker to run (see track mot17 --help)."
    ),
    out: Path | None = typer.Option(
        None, help="Output folder (default: runs/track/<name>-<tracker>, numbered when taken)."
    ),
    conf: float = typer.Option(DETECTOR_CONF, help="Detector score threshold."),
    size: str = typer.Option("640", help="Detector input size: N (longest side) or HxW."),
    batch_size: int = typer.Option(1, min=1, help="Frames per detector pass."),
    device: str = typer.Option("auto", help=f"Detector device: {DEVICE_HELP}."),
    classes: str = typer.Option(
        "", help="Class names to track (default: person when the model has it, else all)."
    ),
    frame_rate: float | None = typer.Option(
        None, help="Frames per second (default: the video's; 30 for an image folder)."
    ),
    render: bool = typer.Option(True, help="Write <name>.mp4 with the tracks drawn."),
    threads: int | None = threads_option(),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out."),
    **settings: Any,
) -> CommandResult:
    """Detect and track objects in a video or an image folder.

    Writes <name>.txt (MOTChallenge results), <name>.mp4 (tracks drawn), tracks.csv (per track:
    length, gaps, mean score) and run.json. Tracker settings as for track mot17.

    Example:

        cvtool track video street.mp4 --weights yolov8n.pt --tracker ocsort
    """
    from cvtool.api.track import track_video

    result = track_video(
        source,
        weights,
        out,
        tracker.value,
        conf=conf,
        size=size,
        batch_size=batch_size,
        device=device,
        classes=classes,
        frame_rate=frame_rate,
        render=render,
        threads=threads,
        overwrite=overwrite,
        progress=True,
        **{name: value for name, value in settings.items() if value is not None},
    )
    return CommandResult(result.path, result.to_dict())


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
    overwrite: bool = overwrite_option(
        "Replace an earlier evaluation in --out (in a run folder, only its own files)."
    ),
) -> CommandResult:
    """Score tracker results with the MOTChallenge rules (TrackEval), trackers side by side.

    HOTA, DetA, AssA, MOTA, MOTP, IDF1, IDSW, FP, FN, MT, ML, Frag per sequence and combined.

    Writes metrics.csv, summary.json and plots/metrics.png; motmetrics recounts MOTA/IDF1.

    Example:

        cvtool track eval runs/track --gt MOT17/train
    """
    from cvtool.api.track import evaluate_tracking

    result = evaluate_tracking(
        run_dirs,
        gt,
        out,
        seqs=seqs,
        cross_check=cross_check,
        per_sequence=per_sequence,
        overwrite=overwrite,
        progress=True,
    )
    return CommandResult(result.path, {"combined": result.combined, "sequences": result.sequences})


@stage_command(app, "info")
def info(
    root: Path = typer.Argument(..., help="MOTChallenge split folder, e.g. MOT17/train."),
    out: Path = typer.Option(Path("track-info"), help="Where to write info.json and images."),
    seqs: str = typer.Option("", help="Comma-separated sequence names (default: all)."),
    overwrite: bool = overwrite_option(),
) -> CommandResult:
    """Describe MOTChallenge sequences: frames, size, frame rate, boxes per frame.

    Counts detections and ground-truth boxes per frame; writes info.json and, when frames exist,
    first_frames.png (the first frame of each sequence).

    Example:

        cvtool track info MOT17/train --out runs/mot17-info
    """
    from cvtool.api.track import describe_sequences

    result = describe_sequences(root, out, seqs=seqs, overwrite=overwrite, progress=True)
    return CommandResult(result.path, result.to_dict())
