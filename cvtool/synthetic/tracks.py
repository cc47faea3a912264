"""A synthetic MOTChallenge sequence: moving boxes, their ground truth, and imperfect detections.

Objects (pedestrian-shaped boxes) appear and leave at random times and move at constant speed,
bouncing off the image borders, so paths cross. Detections jitter around the truth, are missed
at random and over whole occlusion gaps, some carry low confidence, and false positives appear
every frame. The sequence is written in the MOTChallenge layout (`seqinfo.ini`, `gt/gt.txt`,
`det/det.txt`), so every `track` command runs on it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cvtool.core.artifacts import atomic_write_text
from cvtool.track.mot import SeqInfo, format_results, read_seqinfo


@dataclass(frozen=True)
class SyntheticConfig:
    frames: int = 150
    objects: int = 14
    width: int = 960
    height: int = 540
    frame_rate: float = 30.0
    box_noise: float = 0.03  # jitter std as a fraction of the box size
    miss_rate: float = 0.08
    low_score_rate: float = 0.2  # true detections with a score in [0.15, 0.5)
    occlusions: int = 8  # whole gaps of consecutive misses
    occlusion_frames: tuple[int, int] = (4, 16)
    false_per_frame: float = 1.0
    seed: int = 0


def simulate(config: SyntheticConfig) -> tuple[np.ndarray, np.ndarray]:
    """Ground-truth rows (frame, id, x, y, w, h, 1, 1, 1) and detection rows (10 columns)."""
    rng = np.random.default_rng(config.seed)
    n, T = config.objects, config.frames
    w = rng.uniform(30, 70, n)
    h = w * rng.uniform(2.2, 2.8, n)
    pos = np.column_stack([rng.uniform(0, config.width - w), rng.uniform(0, config.height - h)])
    vel = np.column_stack([rng.uniform(-5, 5, n), rng.uniform(-1.5, 1.5, n)])
    start = np.where(rng.random(n) < 0.6, 1, rng.integers(1, T // 2, n))
    end = np.minimum(T, start + rng.integers(T // 3, T, n))
    limit = np.column_stack([config.width - w, config.height - h])

    gt = []
    for t in range(1, T + 1):
        alive = (start <= t) & (t <= end)
        ids = np.flatnonzero(alive)
        gt.append(
            np.column_stack(
                [np.full(len(ids), t), ids + 1, pos[ids], w[ids], h[ids], np.ones((len(ids), 3))]
            )
        )
        pos += vel
        bounce = (pos < 0) | (pos > limit)
        vel[bounce] *= -1
        pos = np.clip(pos, 0, limit)
    gt_rows = np.concatenate(gt)

    detected = rng.random(len(gt_rows)) >= config.miss_rate
    for _ in range(config.occlusions):
        obj = rng.integers(1, n + 1)
        first = rng.integers(1, T)
        gap = rng.integers(*config.occlusion_frames)
        hidden = (gt_rows[:, 1] == obj) & (gt_rows[:, 0] >= first) & (gt_rows[:, 0] < first + gap)
        detected &= ~hidden
    true = gt_rows[detected]
    size = true[:, 4:6]
    boxes = true[:, 2:6] + rng.normal(0, config.box_noise, (len(true), 4)) * np.hstack([size, size])
    boxes[:, 2:] = np.maximum(boxes[:, 2:], 4)
    low = rng.random(len(true)) < config.low_score_rate
    scores = np.where(low, rng.uniform(0.15, 0.5, len(true)), rng.uniform(0.5, 1.0, len(true)))

    n_false = rng.poisson(config.false_per_frame, T)
    f_frames = np.repeat(np.arange(1, T + 1), n_false)
    f_w = rng.uniform(20, 80, len(f_frames))
    f_boxes = np.column_stack(
        [
            rng.uniform(0, config.width - f_w),
            rng.uniform(0, config.height - 2.5 * f_w),
            f_w,
            2.5 * f_w,
        ]
    )
    f_scores = rng.uniform(0.05, 0.55, len(f_frames))

    frames = np.concatenate([true[:, 0], f_frames])
    dets = np.column_stack(
        [
            frames,
            -np.ones(len(frames)),
            np.concatenate([boxes, f_boxes]),
            np.concatenate([scores, f_scores]),
            -np.ones((len(frames), 3)),
        ]
    )
    dets = dets[np.argsort(dets[:, 0], kind="stable")]
    return gt_rows, dets


def write_sequence(
    root: Path, config: SyntheticConfig | None = None, name: str = "SYN-01"
) -> SeqInfo:
    """Write `<root>/<name>/` in the MOTChallenge layout and return its `SeqInfo`."""
    config = config or SyntheticConfig()
    gt, dets = simulate(config)
    seq_dir = Path(root) / name
    atomic_write_text(
        seq_dir / "seqinfo.ini",
        f"[Sequence]\nname={name}\nimDir=img1\nframeRate={config.frame_rate:g}\n"
        f"seqLength={config.frames}\nimWidth={config.width}\nimHeight={config.height}\n"
        "imExt=.jpg\n",
    )
    gt_text = io.StringIO()
    np.savetxt(
        gt_text,
        gt,
        fmt=["%d", "%d", "%.2f", "%.2f", "%.2f", "%.2f", "%d", "%d", "%d"],
        delimiter=",",
    )
    atomic_write_text(seq_dir / "gt" / "gt.txt", gt_text.getvalue())
    atomic_write_text(seq_dir / "det" / "det.txt", format_results(dets))
    return read_seqinfo(seq_dir)
