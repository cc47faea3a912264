"""The eval directory every task writes (the artifact contract, DESIGN.md §3).

`write_eval_dir` writes what all tasks share from an `EvalResult`: `per_class.csv`,
`confusion.csv` and `plots/confusion.png`, `calibration.json` and `plots/reliability.png` (for a
calibrated model, the raw model's numbers and curve beside the calibrated ones), and
`metrics.json`. Each task fills in its own per-class rows and `metrics.json` sections and adds
its own files (segmentation: IoU bins, per-image IoUs, failures; classification: predictions,
the misclassified gallery, t-SNE).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.artifacts import (
    SCHEMA_VERSION,
    atomic_write_json,
    atomic_write_text,
    csv_text,
    read_json_object,
)
from cvtool.core.calibration_metrics import CalibrationReport
from cvtool.core.errors import CvtoolError, check_range
from cvtool.core.headline import headline_spec
from cvtool.core.plots import plot_confusion, plot_reliability
from cvtool.core.provenance import provenance

METRICS_FILE = "metrics.json"
PER_CLASS_FILE = "per_class.csv"
CONFUSION_FILE = "confusion.csv"
CALIBRATION_FILE = "calibration.json"
PLOTS_DIR = "plots"
FAILURES_DIR = "failures"
EVAL_PACKAGES = ("torch", "torchvision")  # their versions go into metrics.json
# The fields of metrics.json that readers use, with their JSON types.
METRICS_FIELDS: dict[str, type | tuple[type, ...]] = {
    "task": str,
    "images": int,
    "headline": dict,
    "split": str,
    "dataset": str,
    "source": dict,
    "classes": list,
    "settings": dict,
    "failures": list,
}


@dataclass
class EvalSettings:
    """Options shared by every way of evaluating (`save_masks` is for segmentation, `tsne_max`
    for classification)."""

    bins: int = 15
    fail_threshold: float = 0.5
    max_failures: int = 12
    save_masks: bool = False
    workers: int | None = None
    overwrite: bool = False
    tsne_max: int = 200
    cache: str = "none"  # decoded samples: none, ram or disk (`cvtool.core.cache`)

    def __post_init__(self) -> None:
        check_range(self.bins, "bins", 1)
        check_range(self.fail_threshold, "fail_threshold", 0, 1)
        check_range(self.max_failures, "max_failures", 0)
        check_range(self.tsne_max, "tsne_max", 0)
        if self.workers is not None:
            check_range(self.workers, "workers", 1)

    calibration: bool = True  # apply the calibration stored with the run, if there is one


@dataclass
class EvalOutcome:
    """What an evaluation wrote: the eval dir, its headline numbers and the full metrics."""

    path: Path
    headline: dict[str, float | None]
    metrics: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        return {"images": self.metrics["images"], **self.headline}


def finite(value: Any) -> float | None:
    """A float for JSON, or None for NaN (JSON has no NaN)."""
    value = float(value)
    return None if math.isnan(value) else value


@dataclass
class EvalResult:
    """A task's scores in the form every eval dir records.

    `headline` holds (at least) the task's headline metrics (`cvtool.core.headline`); `rows`
    are the per-class entries of `metrics.json` (`csv_skip` names fields left out of
    `per_class.csv`); `calibration_info` says what the confidence is and which calibration was
    applied, or (with no calibration) why there is none; `raw_calibration` is the raw model's
    when a calibration was applied; `sections` are the task's own parts of `metrics.json`;
    `warnings` say why the numbers may not mean what they seem (printed as warnings, where
    `notes` are printed as notes).
    """

    task: str
    images: int
    headline: dict[str, float]
    class_names: list[str]
    rows: list[dict[str, Any]]
    absent: list[str]
    confusion: np.ndarray
    calibration: CalibrationReport | None
    notes: list[str]
    calibration_info: dict[str, Any] = field(default_factory=dict)
    raw_calibration: CalibrationReport | None = None
    sections: dict[str, Any] = field(default_factory=dict)
    csv_skip: Sequence[str] = ()
    warnings: list[str] = field(default_factory=list)


def calibration_info(confidence: str, context: dict[str, Any]) -> dict[str, Any]:
    """What the confidence is, and the calibration applied to the model (`source.calibration`
    of the eval context: method, parameters and the split it was fitted on), if any."""
    return {"confidence": confidence, "applied": context.get("source", {}).get("calibration")}


def write_confusion(out: Path, confusion: np.ndarray, names: list[str], title: str) -> None:
    """`confusion.csv` (rows ground truth, columns predictions) and its heat-map."""
    rows = ([n, *r] for n, r in zip(names, np.asarray(confusion).tolist(), strict=True))
    atomic_write_text(out / CONFUSION_FILE, csv_text(["ground_truth\\predicted", *names], rows))
    plot_confusion(confusion, names, out / PLOTS_DIR / "confusion.png", title)


def write_calibration(
    out: Path,
    result: CalibrationReport | None,
    info: dict[str, Any],
    title: str,
    raw: CalibrationReport | None = None,
) -> dict[str, Any]:
    """`calibration.json` and (when there is a result) the reliability diagram, with the raw
    model's bins and curve beside when a calibration was applied; returns the `metrics.json`
    section: the numbers, without the bins."""
    calibration = {"available": result is not None, **info}
    section = dict(calibration)
    if result is not None:
        calibration.update(result.to_dict())
        section.update({"n_bins": result.top.n_bins, **_finite(result.summary())})
        if raw is not None:
            calibration["raw"] = raw.to_dict()
            section["raw"] = _finite(raw.summary())
        plot_reliability(
            result.top,
            out / PLOTS_DIR / "reliability.png",
            title,
            raw=None if raw is None else raw.top,
        )
    atomic_write_json(out / CALIBRATION_FILE, calibration)
    return section


def _finite(values: dict[str, float]) -> dict[str, float | None]:
    return {k: finite(v) for k, v in values.items()}


def write_eval_dir(
    out: Path, result: EvalResult, context: dict[str, Any], title: str
) -> dict[str, Any]:
    """Write the shared tables, plots and `metrics.json` (with `context` and the provenance)
    into `out`; return the metrics dict."""
    table = [{k: v for k, v in r.items() if k not in result.csv_skip} for r in result.rows]
    atomic_write_text(out / PER_CLASS_FILE, csv_text(list(table[0]), (r.values() for r in table)))
    write_confusion(out, result.confusion, result.class_names, title)
    calibration = write_calibration(
        out, result.calibration, result.calibration_info, title, result.raw_calibration
    )
    metrics = {
        "schema_version": SCHEMA_VERSION,
        "task": result.task,
        **context,
        **provenance(*EVAL_PACKAGES),
        "images": result.images,
        "headline": {k: finite(result.headline[k]) for k in headline_spec(result.task).keys},
        "classes": result.rows,
        "absent_classes": result.absent,
        **result.sections,
        "calibration": calibration,
        "notes": result.notes,
        "warnings": result.warnings,
    }
    atomic_write_json(out / METRICS_FILE, metrics)
    return metrics


def read_metrics(directory: str | os.PathLike[str], *fields: str) -> dict[str, Any]:
    """`DIR/metrics.json` with `task`, `images`, numeric `headline` values and `fields` (keys
    of `METRICS_FIELDS`) as `write_eval_dir` writes them; an edited or truncated file is
    refused with the file and the field named."""
    path = Path(directory) / METRICS_FILE
    hint = "eval dirs are written by `cvtool evaluate`; evaluate again to rewrite this one"
    wanted = {k: METRICS_FIELDS[k] for k in ("task", "images", "headline", *fields)}
    metrics = read_json_object(path, "eval metrics", wanted, hint)
    for key, value in metrics["headline"].items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise CvtoolError(f"eval metrics {path}: headline {key!r} is not a number", hint)
    return metrics
