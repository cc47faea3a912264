"""`track info`: what a MOTChallenge folder holds, sequence by sequence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.artifacts import atomic_write_json, check_replaceable, staged_output_dir
from cvtool.core.provenance import provenance
from cvtool.track.mot import CONF, FRAME, GT_CLASS, ID, SeqInfo, read_mot_txt

PEDESTRIAN = 1


def boxes_per_frame(rows: np.ndarray, length: int) -> np.ndarray:
    """(length,) number of rows in each frame 1..length."""
    return np.bincount(rows[:, FRAME].astype(int), minlength=length + 1)[1:]


def _per_frame(counts: np.ndarray, length: int) -> dict[str, float]:
    return {
        "total": int(counts.sum()),
        "mean_per_frame": float(counts.mean()) if length else 0.0,
        "max_per_frame": int(counts.max()) if length else 0,
        "empty_frames": int((counts == 0).sum()),
    }


def sequence_info(seq: SeqInfo) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Frames, size, rate, and detection / ground-truth box counts per frame for one sequence;
    also the per-frame counts themselves (`detections`, `ground_truth`)."""
    counts: dict[str, np.ndarray] = {}
    info: dict[str, Any] = {
        "name": seq.name,
        "frames": seq.length,
        "width": seq.width,
        "height": seq.height,
        "frame_rate": seq.frame_rate,
        "images": len(seq.available_frames()),
        "detections": None,
        "ground_truth": None,
    }
    if seq.det_path.is_file():
        dets = read_mot_txt(seq.det_path, "detection file", length=seq.length)
        counts["detections"] = boxes_per_frame(dets, seq.length)
        info["detections"] = {
            **_per_frame(counts["detections"], seq.length),
            "mean_confidence": float(dets[:, CONF].mean()) if len(dets) else None,
        }
    if seq.gt_path.is_file():
        gt = read_mot_txt(seq.gt_path, "ground-truth file", min_columns=8, length=seq.length)
        ped = gt[(gt[:, GT_CLASS] == PEDESTRIAN) & (gt[:, CONF] != 0)]
        counts["ground_truth"] = boxes_per_frame(ped, seq.length)
        info["ground_truth"] = {
            **_per_frame(counts["ground_truth"], seq.length),
            "tracks": len(np.unique(ped[:, ID])),
        }
    return info, counts


def write_info(seqs: list[SeqInfo], out: Path, overwrite: bool = False) -> list[dict[str, Any]]:
    """Write the folder `out` as one artifact (`staged_output_dir`): `info.json`,
    `boxes_per_frame.png` and, when frames exist, `first_frames.png`."""
    from cvtool.track.plots import plot_boxes_per_frame, save_image_grid

    check_replaceable(out, overwrite)
    results = [sequence_info(s) for s in seqs]
    infos = [info for info, _ in results]
    counts = {s.name: c for s, (_, c) in zip(seqs, results, strict=True)}
    firsts = [(s.name, s.frame_path(f[0])) for s in seqs if (f := s.available_frames())]
    with staged_output_dir(out, overwrite) as stage:
        atomic_write_json(stage / "info.json", {"sequences": infos, **provenance()})
        plot_boxes_per_frame(counts, stage / "boxes_per_frame.png")
        if firsts:
            save_image_grid(firsts, stage / "first_frames.png")
    return infos


def print_sequences(root: Path, infos: list[dict[str, Any]]) -> None:
    """The table of sequences `write_info` described, on stderr."""
    from rich.table import Table

    from cvtool.core.console import console, literal

    table = Table(title=literal(root))
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
            literal(i["name"]),
            str(i["frames"]),
            f"{i['width']}x{i['height']}",
            f"{i['frame_rate']:g}",
            str(i["images"]),
            f"{det['mean_per_frame']:.1f} (max {det['max_per_frame']})" if det else "-",
            f"{gtinfo['mean_per_frame']:.1f} (max {gtinfo['max_per_frame']})" if gtinfo else "-",
            str(gtinfo["tracks"]) if gtinfo else "-",
        )
    console.print(table)
