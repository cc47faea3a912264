"""Compare evaluations from Python: the headline metrics of several eval dirs side by side
(segmentation, classification, detection or tracking)."""

from __future__ import annotations

from collections.abc import Sequence

from cvtool.api.params import PathLike, as_optional_path, as_paths
from cvtool.api.results import ComparisonResult
from cvtool.core.console import quiet


def compare(
    eval_dirs: Sequence[PathLike],
    out: PathLike | None = None,
    *,
    overwrite: bool = False,
    progress: bool = False,
) -> ComparisonResult:
    """Eval dirs of one task side by side, best value of each column marked; eval dirs of
    different tasks are refused.

    Segmentation: mIoU, pixel accuracy, mean class accuracy, fw IoU, mAP, ECE.
    Classification: accuracy, macro F1, ECE.
    Detection: AP, AP50, AP75, AP small/medium/large, TIDE's dAPs, ECE.
    Tracking (one row per tracker): HOTA, DetA, AssA, MOTA, IDF1, IDSW.

    Args:
        eval_dirs: eval dirs written by `evaluate` or `evaluate_predictions` (`metrics.json`),
            `evaluate_detections` (`coco_eval.json`) or `evaluate_tracking` (`summary.json`).
        out: folder for `comparison.csv` and `comparison.md` (default: the first free
            `runs/compare/comparison`, `comparison2`, ...).
        overwrite: replace a non-empty `out`.
        progress: print the table on stderr.

    Returns:
        The folder, the task and one `{"model": label, metric: value, ...}` row per eval dir
        (per tracker for tracking).
    """
    from cvtool.core.artifacts import staged_output_dir
    from cvtool.core.compare import METRICS_KIND, compare_evaluations
    from cvtool.core.outputs import check_not_staging, check_out_not_input
    from cvtool.core.rundirs import next_run_dir
    from cvtool.detect.summary import DETECTION_KIND
    from cvtool.track.eval_runs import TRACKING_KIND

    dirs = as_paths(eval_dirs, "eval_dirs")
    for d in dirs:
        check_not_staging(d, "eval dir")
    out_dir = as_optional_path(out, "out") or next_run_dir("compare", "comparison")
    check_out_not_input(out_dir, {"eval_dirs": dirs})
    kinds = (METRICS_KIND, DETECTION_KIND, TRACKING_KIND)
    with quiet(not progress), staged_output_dir(out_dir, overwrite) as staging:
        _, comparison = compare_evaluations(dirs, staging, kinds)
    rows = [{"model": row.label, **row.values} for row in comparison.rows]
    return ComparisonResult(out_dir, comparison.task, rows)
