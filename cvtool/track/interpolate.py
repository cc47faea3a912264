"""Linear interpolation of short gaps inside each track (a common offline post-process)."""

from __future__ import annotations

import numpy as np

from cvtool.track.mot import FRAME, ID


def interpolate_gaps(rows: np.ndarray, max_gap: int) -> np.ndarray:
    """Fill gaps of 1..`max_gap` missing frames between two boxes of the same id.

    `rows` are tracker results `frame, id, x, y, w, h, score, ...`; filled rows get boxes on the
    straight line between the two ends and the lower of their two scores. Returns all rows
    sorted by frame then id.
    """
    if max_gap < 1 or len(rows) < 2:
        return rows
    rows = rows[np.lexsort((rows[:, FRAME], rows[:, ID]))]
    gap = np.diff(rows[:, FRAME]) - 1
    same = rows[1:, ID] == rows[:-1, ID]
    starts = np.flatnonzero(same & (gap >= 1) & (gap <= max_gap))
    if starts.size:
        counts = gap[starts].astype(np.int64)
        left = np.repeat(starts, counts)
        # step k = 1..gap within each gap
        step = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + 1
        frac = (step / (np.repeat(counts, counts) + 1))[:, None]
        a, b = rows[left], rows[left + 1]
        filled = a + (b - a) * frac
        filled[:, FRAME] = a[:, FRAME] + step
        filled[:, ID] = a[:, ID]
        filled[:, 6] = np.minimum(a[:, 6], b[:, 6])
        filled[:, 7:] = a[:, 7:]
        rows = np.concatenate([rows, filled])
    return rows[np.lexsort((rows[:, ID], rows[:, FRAME]))]
