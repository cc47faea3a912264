"""TrackEval's own MOTChallenge pipeline (file reading, preprocessing, scoring) on result folders.

The reference that `cvtool.track.evaluate` is checked against in tests and timed against in
`benchmarks/bench_track.py`.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path
from typing import Any

from cvtool.track.mot import SeqInfo


def trackeval_pipeline(
    tracker_dirs: dict[str, Path], gt_root: Path, seqs: list[SeqInfo]
) -> dict[str, dict[str, dict[str, Any]]]:
    """`{tracker: {sequence or "COMBINED": {metric: TrackEval result dict}}}`.

    Each tracker directory holds `<sequence>.txt`; `gt_root/<sequence>/gt/gt.txt` is the ground
    truth, scored with `MotChallenge2DBox` (MOT17 rules) and HOTA, CLEAR and Identity.
    """
    import trackeval

    results: dict[str, dict[str, dict[str, Any]]] = {}
    for name, folder in tracker_dirs.items():
        folder = Path(folder).resolve()
        with tempfile.TemporaryDirectory() as scratch:
            dataset = trackeval.datasets.MotChallenge2DBox(
                {
                    "GT_FOLDER": str(gt_root),
                    "TRACKERS_FOLDER": str(folder.parent),
                    "TRACKERS_TO_EVAL": [folder.name],
                    "OUTPUT_FOLDER": scratch,
                    "TRACKER_SUB_FOLDER": "",
                    "SKIP_SPLIT_FOL": True,
                    "SEQ_INFO": {s.name: s.length for s in seqs},
                    "PRINT_CONFIG": False,
                }
            )
            evaluator = trackeval.Evaluator(
                {
                    "USE_PARALLEL": False,
                    "PRINT_RESULTS": False,
                    "PRINT_CONFIG": False,
                    "TIME_PROGRESS": False,
                    "OUTPUT_SUMMARY": False,
                    "OUTPUT_EMPTY_CLASSES": False,
                    "OUTPUT_DETAILED": False,
                    "PLOT_CURVES": False,
                }
            )
            metrics = [
                trackeval.metrics.HOTA(),
                trackeval.metrics.CLEAR({"PRINT_CONFIG": False}),
                trackeval.metrics.Identity({"PRINT_CONFIG": False}),
            ]
            with contextlib.redirect_stdout(io.StringIO()):
                raw, _ = evaluator.evaluate([dataset], metrics)
        by_seq = raw["MotChallenge2DBox"][folder.name]
        results[name] = {
            ("COMBINED" if seq == "COMBINED_SEQ" else seq): res["pedestrian"]
            for seq, res in by_seq.items()
        }
    return results
