"""Tracking benchmark: tracker frames/s, and `track eval` scoring against TrackEval's pipeline.

Run: python benchmarks/bench_track.py [MOT17/train] [MPNTrack folder]

1. Both trackers over every sequence with the public detections; frames/s counts time inside
   the tracker only (file reading and writing excluded).
2. Scoring the IoU tracker, ByteTrack and MPNTrack results: cvtool's in-process path (vectorised
   loading, ground truth read once, TrackEval's metric classes) against TrackEval's own
   MotChallenge2DBox + Evaluator pipeline on the same files, after checking the numbers agree.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = REPO.parent / "shared" / "data" / "mot17" / "train"


def best_of(fn, repeat: int = 2) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    from cvtool.core.console import console
    from cvtool.track.evaluate import load_ground_truth, score_tracker, summarise
    from cvtool.track.mot import find_sequences
    from cvtool.track.reference import trackeval_pipeline
    from cvtool.track.run import run_tracker

    root = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ROOT
    mpn = Path(sys.argv[2]) if len(sys.argv) > 2 else root.parent / "trackers" / "MPNTrack"
    seqs = find_sequences(root)
    frames = sum(s.length for s in seqs)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        fps = {}
        for tracker in ("iou", "bytetrack"):
            run = run_tracker(seqs, tracker, out)
            fps[tracker] = frames / sum(s.tracker_seconds for s in run.sequences)
        folders = {"iou": out / "iou", "bytetrack": out / "bytetrack", "MPNTrack": mpn}

        def ours() -> dict:
            gts = {s.name: load_ground_truth(s) for s in seqs}
            return {
                t: score_tracker(t, f, seqs, gts, cross_check=False).raw for t, f in folders.items()
            }

        def theirs() -> dict:
            return trackeval_pipeline(folders, root, seqs)

        ours(), theirs()  # warm imports
        t_ours, res_ours = best_of(ours)
        t_ref, res_ref = best_of(theirs)
        t_check, _ = best_of(
            lambda: [
                score_tracker(t, f, seqs, {s.name: load_ground_truth(s) for s in seqs})
                for t, f in folders.items()
            ],
            repeat=1,
        )
    for t in folders:
        for seq in res_ref[t]:
            a, b = summarise(res_ours[t][seq]), summarise(res_ref[t][seq])
            assert all(np.isclose(a[k], b[k], rtol=0, atol=1e-12) for k in a), (t, seq)

    console.print(f"sequences: {len(seqs)} ({frames} frames)")
    for tracker, value in fps.items():
        console.print(f"tracker {tracker:>9}: {value:8.0f} frames/s (tracker time only)")
    console.print(f"ByteTrack / IoU tracker speed: {fps['bytetrack'] / fps['iou']:.3f}x")
    console.print(f"scoring {len(folders)} trackers x {len(seqs)} sequences (numbers identical):")
    console.print(f"  TrackEval pipeline      {t_ref:6.2f} s")
    console.print(f"  cvtool in-process       {t_ours:6.2f} s   speed-up {t_ref / t_ours:.2f}x")
    console.print(f"  cvtool + motmetrics     {t_check:6.2f} s   (the default cross-check)")


if __name__ == "__main__":
    main()
