"""Compare evaluations from Python: the headline metrics of several eval dirs side by side."""

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
    """One row per eval dir (all of one task), best value of each column marked.

    Segmentation: mIoU, pixel accuracy, mean class accuracy, fw IoU, mAP, ECE.
    Classification: accuracy, macro F1, ECE.

    Args:
        eval_dirs: eval dirs written by `evaluate` or `evaluate_predictions`.
        out: folder for `comparison.csv` and `comparison.md` (default: the first free
            `runs/compare/comparison`, `comparison2`, ...).
        overwrite: replace a non-empty `out`.
        progress: print the table on stderr.

    Returns:
        The folder, the task and one `{"model": label, metric: value, ...}` row per eval dir.
    """
    from cvtool.core.artifacts import staged_output_dir
    from cvtool.core.compare import compare_evaluations
    from cvtool.core.outputs import check_not_staging, check_out_not_input
    from cvtool.core.rundirs import next_run_dir

    dirs = as_paths(eval_dirs, "eval_dirs")
    for d in dirs:
        check_not_staging(d, "eval dir")
    out_dir = as_optional_path(out, "out") or next_run_dir("compare", "comparison")
    check_out_not_input(out_dir, {"eval_dirs": dirs})
    with quiet(not progress), staged_output_dir(out_dir, overwrite) as staging:
        _, comparison = compare_evaluations(dirs, staging)
    rows = [
        {"model": label, **values}
        for label, values in zip(comparison.labels, comparison.values, strict=True)
    ]
    return ComparisonResult(out_dir, comparison.task, rows)
