"""Per-track statistics of tracker output: how long each track lives and where it has gaps.

A track's `length` is the frames from its first to its last box; its `gaps` are the runs of
frames inside that span without a box (the tracker lost the object and found it again), and
`missing` their total. Fragmented tracks (many gaps) and many short tracks are the usual signs of
a detector that flickers or a tracker that lets tracks die too early.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from cvtool.core.artifacts import csv_text
from cvtool.track.mot import CONF, FRAME, ID


@dataclass(frozen=True)
class TrackStats:
    id: int
    first_frame: int
    last_frame: int
    length: int
    boxes: int
    gaps: int
    missing: int
    longest_gap: int
    mean_score: float


def track_statistics(rows: np.ndarray) -> list[TrackStats]:
    """One `TrackStats` per id of result rows `frame, id, x, y, w, h, score, ...`, by id."""
    rows = rows[np.lexsort((rows[:, FRAME], rows[:, ID]))]
    ids, starts, counts = np.unique(rows[:, ID], return_index=True, return_counts=True)
    stats = []
    for track_id, start, count in zip(ids, starts, counts, strict=True):
        own = rows[start : start + count]
        steps = np.diff(own[:, FRAME]) - 1
        gaps = steps[steps > 0]
        first, last = int(own[0, FRAME]), int(own[-1, FRAME])
        stats.append(
            TrackStats(
                id=int(track_id),
                first_frame=first,
                last_frame=last,
                length=last - first + 1,
                boxes=int(count),
                gaps=len(gaps),
                missing=int(gaps.sum()),
                longest_gap=int(gaps.max()) if len(gaps) else 0,
                mean_score=float(own[:, CONF].mean()),
            )
        )
    return stats


def stats_csv(stats: list[TrackStats]) -> str:
    """`tracks.csv`: one row per track."""
    return csv_text([f.name for f in fields(TrackStats)], [asdict(s).values() for s in stats])


def summarize(stats: list[TrackStats], frame_rate: float) -> dict[str, Any]:
    """Counts and length/gap figures over all tracks; `short_tracks` live under one second."""
    if not stats:
        return {"tracks": 0}
    lengths = np.array([s.length for s in stats])
    gaps = np.array([s.gaps for s in stats])
    return {
        "tracks": len(stats),
        "mean_length": float(lengths.mean()),
        "median_length": float(np.median(lengths)),
        "max_length": int(lengths.max()),
        "mean_length_seconds": float(lengths.mean() / frame_rate),
        "short_tracks": int((lengths < frame_rate).sum()),
        "tracks_with_gaps": int((gaps > 0).sum()),
        "gaps": int(gaps.sum()),
        "missing_frames": int(sum(s.missing for s in stats)),
        "longest_gap": int(max(s.longest_gap for s in stats)),
    }
