"""COCO box mAP through pycocotools (the reference) or faster-coco-eval (same numbers, faster).

Both backends get the same checked inputs (`cocodata.py`), so neither sees a prediction it would
choke on; an empty prediction list is evaluated as "nothing detected" (AP 0 wherever there is
ground truth), which pycocotools' `loadRes` cannot do by itself.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.detect.cocodata import GroundTruth, Predictions

STAT_NAMES = (
    "AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large",
    "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large",
)  # fmt: skip
BACKENDS = ("pycocotools", "faster-coco-eval")


@dataclass
class CocoEvalResult:
    """The 12 COCO stats by name (-1 where COCO has nothing to score) and the PR curves."""

    backend: str
    stats: dict[str, float]
    iou_thresholds: np.ndarray
    recall_thresholds: np.ndarray
    precision: np.ndarray  # [iou, recall]: mean over scored categories, all areas, 100 dets
    per_category_ap: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "stats": self.stats,
            "per_category_ap": self.per_category_ap,
            "iou_thresholds": self.iou_thresholds.round(2).tolist(),
        }


def _backend(name: str) -> tuple[type, type, dict[str, Any]]:
    if name == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval

        return COCO, COCOeval, {}
    if name == "faster-coco-eval":
        try:
            from faster_coco_eval import COCO, COCOeval_faster
        except ImportError:
            raise CvtoolError(
                "the faster-coco-eval backend is not installed",
                "pip install 'cvtool[fast]' (or faster-coco-eval), or use the pycocotools backend",
                param="backend",
            ) from None
        return COCO, COCOeval_faster, {"print_function": lambda *a, **k: None}
    raise ParameterError(
        f"unknown COCO backend {name!r}; choose one of {', '.join(BACKENDS)}", "backend"
    )


def coco_evaluate(
    gt: GroundTruth, preds: Predictions, backend: str = "pycocotools"
) -> CocoEvalResult:
    coco_cls, eval_cls, eval_kwargs = _backend(backend)
    with contextlib.redirect_stdout(io.StringIO()):  # both print progress on stdout
        coco_gt = coco_cls()
        coco_gt.dataset = gt.coco_dataset()
        coco_gt.createIndex()
        if len(preds):
            coco_dt = coco_gt.loadRes(preds.to_coco())
        else:
            coco_dt = coco_cls()
            coco_dt.dataset = {**coco_gt.dataset, "annotations": []}
            coco_dt.createIndex()
        evaluator = eval_cls(coco_gt, coco_dt, "bbox", **eval_kwargs)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    stats = {name: float(v) for name, v in zip(STAT_NAMES, evaluator.stats[:12], strict=True)}
    precision = np.asarray(evaluator.eval["precision"])[:, :, :, 0, -1]  # area all, 100 dets
    return CocoEvalResult(
        backend=backend,
        stats=stats,
        iou_thresholds=np.asarray(evaluator.params.iouThrs),
        recall_thresholds=np.asarray(evaluator.params.recThrs),
        precision=_mean_defined(precision, axis=2),
        per_category_ap=_per_category(precision, list(evaluator.params.catIds), gt.categories),
    )


def _mean_defined(values: np.ndarray, axis: int) -> np.ndarray:
    """Mean over `axis` of entries > -1 (COCO's marker for "nothing to score"); -1 if none."""
    defined = values > -1
    count = defined.sum(axis=axis)
    total = np.where(defined, values, 0).sum(axis=axis)
    return np.divide(total, count, out=np.full(total.shape, -1.0), where=count > 0)


def _per_category(
    precision: np.ndarray, cat_ids: list[int], names: dict[int, str]
) -> dict[str, float]:
    """AP@[.5:.95] per category that has ground truth."""
    out = {}
    for k, cat in enumerate(cat_ids):
        p = precision[:, :, k]
        if (p > -1).any():
            out[names[cat]] = float(p[p > -1].mean())
    return out
