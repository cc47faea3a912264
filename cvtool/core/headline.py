"""The headline metrics of each task: key, label, which way is better, and how to print them.

Tables, comparisons, reports and the demo read these specs, so a metric has one name everywhere.

>>> [m.label for m in headline_spec("segmentation").compared]
['mIoU', 'pixel acc', 'mean class acc', 'fw IoU', 'mAP (pixel)', 'ECE', 'NLL']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Metric:
    """One headline number: its key in `metrics.json`/summaries and how people see it."""

    key: str
    label: str
    higher_is_better: bool = True
    digits: int = 4
    compared: bool = True  # a column of `cvtool compare`

    @property
    def arrow(self) -> str:
        return "↑" if self.higher_is_better else "↓"

    def format(self, value: float | None) -> str:
        """`value` with the metric's digits (integers as they are); "—" for a missing value."""
        if value is None:
            return "—"
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return f"{value:.{self.digits}f}"

    def best(self, values: Iterable[float | None]) -> float | None:
        """The best of the present values (None if there are none)."""
        present = [v for v in values if v is not None]
        if not present:
            return None
        return max(present) if self.higher_is_better else min(present)


@dataclass(frozen=True)
class Headline:
    """The ordered headline metrics of one task."""

    task: str
    metrics: tuple[Metric, ...]

    def __getitem__(self, key: str) -> Metric:
        for metric in self.metrics:
            if metric.key == key:
                return metric
        raise KeyError(f"{key!r} is not a {self.task} headline metric; valid keys: {self.keys}")

    @property
    def keys(self) -> list[str]:
        return [m.key for m in self.metrics]

    @property
    def compared(self) -> tuple[Metric, ...]:
        return tuple(m for m in self.metrics if m.compared)

    def labelled(self, values: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
        """`{label: value}` of the `keys` present (not None) in `values`, for summaries."""
        return {self[k].label: values[k] for k in keys if values.get(k) is not None}


ECE = Metric("ece", "ECE", higher_is_better=False)
MCE = Metric("mce", "MCE", higher_is_better=False, compared=False)
# TIDE's main error types: the AP50 points (0-100) that fixing each error would add, overall.
TIDE_ERRORS = ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss")
TIDE_DAPS = tuple(
    Metric(f"tide_{error.lower()}", f"dAP {error}", higher_is_better=False, digits=2)
    for error in TIDE_ERRORS
)
NLL = Metric("nll", "NLL", higher_is_better=False)
BRIER = Metric("brier", "Brier", higher_is_better=False, compared=False)


HEADLINES: dict[str, Headline] = {
    h.task: h
    for h in (
        Headline(
            "segmentation",
            (
                Metric("miou", "mIoU"),
                Metric("pixel_accuracy", "pixel acc"),
                Metric("mean_class_accuracy", "mean class acc"),
                Metric("fw_iou", "fw IoU"),
                Metric("mean_ap", "mAP (pixel)"),
                ECE,
                MCE,
                NLL,
                BRIER,
            ),
        ),
        Headline(
            "classification",
            (
                Metric("accuracy", "accuracy"),
                Metric("macro_precision", "macro P", compared=False),
                Metric("macro_recall", "macro R", compared=False),
                Metric("macro_f1", "macro F1"),
                ECE,
                MCE,
                NLL,
                BRIER,
            ),
        ),
        Headline(
            "detection",
            (
                Metric("AP", "AP", digits=3),
                Metric("AP50", "AP50", digits=3),
                Metric("AP75", "AP75", digits=3),
                Metric("AP_small", "AP small", digits=3),
                Metric("AP_medium", "AP medium", digits=3),
                Metric("AP_large", "AP large", digits=3),
                *TIDE_DAPS,
                ECE,
            ),
        ),
        Headline(
            "tracking",
            (
                Metric("HOTA", "HOTA", digits=3),
                Metric("DetA", "DetA", digits=3),
                Metric("AssA", "AssA", digits=3),
                Metric("MOTA", "MOTA", digits=3),
                Metric("IDF1", "IDF1", digits=3),
                Metric("IDSW", "IDSW", higher_is_better=False),
            ),
        ),
    )
}


def headline_spec(task: str) -> Headline:
    """The headline of `task`; a KeyError lists the known tasks."""
    try:
        return HEADLINES[task]
    except KeyError:
        valid = ", ".join(HEADLINES)
        raise KeyError(f"no headline for task {task!r}; valid names: {valid}") from None
