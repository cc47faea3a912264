"""Evaluate a checkpoint or a directory of predicted masks on a split; merge shard evaluations.

Each entry point builds the eval directory in a staging directory (swapped in when complete),
streams batches through a `SegmentationEvaluator`, writes `per_image.csv` as it goes, keeps the
worst images for the failure gallery, and returns an `EvalOutcome`.
"""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from cvtool.core.artifacts import ClassInfo, staged_output_dir
from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.core.evaldir import (
    FAILURES_DIR,
    METRICS_FILE,
    EvalOutcome,
    EvalSettings,
    read_metrics,
)
from cvtool.core.finite import NonFiniteOutputs
from cvtool.core.images import read_mask, read_rgb, write_index_png, write_rgb_png
from cvtool.core.layout import COLORED_DIR, MASKS_DIR, mask_name
from cvtool.core.palette import class_colors, colorize
from cvtool.core.parallel import parallel_map
from cvtool.core.tables import print_metrics
from cvtool.core.worst import WorstK
from cvtool.segment.metrics import SegmentationEvaluator
from cvtool.segment.plots import plot_failure
from cvtool.segment.report import CLASS_COLUMNS, PER_IMAGE_FILE, STATE_FILE, write_report
from cvtool.segment.samples import load_prediction_pair
from cvtool.segment.shards import (
    SPLIT_IMAGES,
    ShardFields,
    check_complete,
    merged_classes,
    split_size,
)
from cvtool.segment.split import EvalSplit, SplitItem, load_split

# (items, label masks (B, H, W), probabilities (B, C, H, W) or None, predicted ids (B, H, W),
#  the raw model's probabilities (B, C, H, W) when the model is calibrated, else None)
Batch = tuple[Sequence[SplitItem], Any, Any, Any, Any]
# What merging reads from each shard's metrics.json.
MERGED_FIELDS = ("split", "dataset", "source", "classes", "settings", "failures")


class Failure(NamedTuple):
    """An image whose IoU is at most the failure threshold, with its predicted mask."""

    iou: float
    name: str
    prediction: np.ndarray


class _Recorder:
    """Feeds batches to the evaluator and streams the per-image outputs into the staging dir."""

    def __init__(
        self, staging: Path, split: EvalSplit, with_scores: bool, s: EvalSettings, with_raw: bool
    ):
        m = split.manifest
        self.staging, self.split, self.settings = staging, split, s
        self.colors = class_colors(m.classes)
        self.evaluator = SegmentationEvaluator(
            m.num_classes, m.ignore_index, with_scores, s.bins, with_raw=with_raw
        )
        self.failures: WorstK[Failure] = WorstK(s.max_failures)  # lowest IoU, then name
        self._file = (staging / PER_IMAGE_FILE).open("w", newline="")
        self._rows = csv.writer(self._file, lineterminator="\n")
        self._rows.writerow(["name", "iou"])

    def add(self, batch: Batch) -> None:
        items, target, probs, pred, raw_probs = batch
        ious = self.evaluator.update(target, probs=probs, pred=pred, raw_probs=raw_probs)
        pred_np = pred.cpu().numpy().astype(np.uint8)
        for item, iou, mask in zip(items, ious, pred_np, strict=True):
            self._rows.writerow([item.name, "" if np.isnan(iou) else f"{iou:.6f}"])
            if iou <= self.settings.fail_threshold:  # NaN (nothing labelled) never is
                self.failures.offer((iou, item.name), Failure(float(iou), item.name, mask))
            if self.settings.save_masks:
                write_index_png(self.staging / MASKS_DIR / mask_name(item.name), mask)
                write_rgb_png(
                    self.staging / COLORED_DIR / mask_name(item.name), colorize(mask, self.colors)
                )

    def finish(self, context: dict[str, Any], title: str) -> EvalOutcome:
        self._file.close()
        self.evaluator.save(self.staging / STATE_FILE)
        failures = self._render_failures(title)
        report = self.evaluator.compute()
        context = {**context, "failures": failures, "failure_candidates": self.failures.offered}
        return _written(self.staging, report, self.split.manifest.classes, context, title)

    def _render_failures(self, title: str) -> list[dict[str, Any]]:
        by_name = {item.name: item for item in self.split.items}
        m = self.split.manifest
        out = []
        for rank, failure in enumerate(self.failures.worst_first(), 1):
            item = by_name[failure.name]
            file = f"{FAILURES_DIR}/{rank:03d}_{Path(item.name).stem}.png"
            plot_failure(
                read_rgb(item.image),
                read_mask(item.mask, m.num_classes, m.ignore_index),
                failure.prediction,
                self.colors,
                m.ignore_index,
                self.staging / file,
                f"{title}: {item.name}  IoU {failure.iou:.3f}",
            )
            out.append({"name": item.name, "iou": failure.iou, "file": file})
        return out


def _written(
    staging: Path, report: Any, classes: Sequence[ClassInfo], context: dict[str, Any], title: str
) -> EvalOutcome:
    metrics = write_report(staging, report, classes, context, title)
    return EvalOutcome(staging, metrics["headline"], metrics)


def _context(split: EvalSplit, source: dict[str, Any], s: EvalSettings, shard: Any) -> dict:
    return {
        "source": source,
        "dataset": str(split.data_dir),
        "split": split.split,
        "shard": None if shard is None else f"{shard[0]}/{shard[1]}",
        SPLIT_IMAGES: split.total,
        "settings": {
            "bins": s.bins,
            "fail_threshold": s.fail_threshold,
            "max_failures": s.max_failures,
        },
    }


def run_evaluation(
    out: Path,
    split: EvalSplit,
    batches: Iterable[Batch],
    with_scores: bool,
    source: dict[str, Any],
    settings: EvalSettings,
    shard: tuple[int, int] | None,
    title: str,
    with_raw: bool = False,
    outputs: NonFiniteOutputs | None = None,
) -> EvalOutcome:
    """Stream `batches` into a new eval dir at `out`; print the tables; return the outcome.
    With `with_raw`, the batches carry the raw model's probabilities too; `outputs` counts the
    model's non-finite outputs while they stream (recorded as `nonfinite_outputs`)."""
    with staged_output_dir(out, settings.overwrite) as staging:
        recorder = _Recorder(staging, split, with_scores, settings, with_raw)
        try:
            for batch in batches:
                recorder.add(batch)
        except ValueError as e:  # ids outside the classes, mismatched shapes
            raise CvtoolError(f"evaluating {split.data_dir} split {split.split!r}: {e}") from None
        context = _context(split, source, settings, shard)
        if outputs is not None:
            context["nonfinite_outputs"] = outputs.to_dict()
        outcome = recorder.finish(context, title)
    outcome.path = out
    print_metrics(outcome.metrics, title, CLASS_COLUMNS)
    return outcome


def _prediction_batches(split: EvalSplit, workers: int | None) -> Iterator[Batch]:
    import torch

    m = split.manifest
    load = partial(load_prediction_pair, num_classes=m.num_classes, ignore_index=m.ignore_index)
    pairs = parallel_map(load, split.items, workers, "scoring predictions")
    for item, (mask, pred) in zip(split.items, pairs, strict=True):
        yield [item], torch.from_numpy(mask)[None], None, torch.from_numpy(pred)[None], None


def evaluate_predictions(
    predictions: str | os.PathLike[str],
    data: str | os.PathLike[str],
    split: str = "test",
    out: str | os.PathLike[str] | None = None,
    settings: EvalSettings | None = None,
    shard: tuple[int, int] | None = None,
) -> EvalOutcome:
    """Score index-mask PNGs (`<stem>.png` per split image) against a prepared dataset split.

    No probabilities, so no calibration or average precision; the report says why.
    """
    settings = settings or EvalSettings()
    predictions = Path(predictions)
    eval_split = load_split(data, split, predictions, shard)
    out = Path(out) if out else predictions.parent / f"{predictions.name}-eval-{split}"
    source = {"kind": "predictions", "predictions": str(predictions), "name": predictions.name}
    batches = _prediction_batches(eval_split, settings.workers)
    return run_evaluation(
        out, eval_split, batches, False, source, settings, shard, f"{predictions.name} ({split})"
    )


def merge_evaluations(
    shard_dirs: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    overwrite: bool = False,
) -> EvalOutcome:
    """Merge the eval dirs of shards (`evaluate --shard i/n`) into one, as if run in one pass:
    all `n` shards of one evaluation, each once (`cvtool.segment.shards.check_complete`)."""
    dirs = [Path(d) for d in shard_dirs]
    if len(dirs) < 2:
        raise ParameterError("merging needs at least two shard eval directories", "shard_dirs")
    metas = [read_metrics(d, *MERGED_FIELDS) for d in dirs]
    for d, meta in zip(dirs, metas, strict=True):
        if meta["task"] != "segmentation":
            raise CvtoolError(
                f"{d / METRICS_FILE} is a {meta.get('task')} evaluation; only the shards of a "
                "segmentation evaluation can be merged"
            )
    check_complete(dirs, metas)
    first = metas[0]
    evaluator = SegmentationEvaluator.load(dirs[0] / STATE_FILE)
    for d in dirs[1:]:
        try:
            evaluator.merge(SegmentationEvaluator.load(d / STATE_FILE))
        except ValueError as e:
            raise CvtoolError(f"{d / STATE_FILE}: {e}") from None
    shards = [ShardFields.read(d, meta) for d, meta in zip(dirs, metas, strict=True)]
    classes = merged_classes(dirs, metas, evaluator.num_classes)
    title = f"{first['source'].get('name', 'model')} ({first['split']})"
    with staged_output_dir(out, overwrite) as staging:
        _concat_per_image(dirs, staging / PER_IMAGE_FILE)
        evaluator.save(staging / STATE_FILE)
        worst: WorstK[dict[str, Any]] = WorstK(shards[0].max_failures)
        for d, shard in zip(dirs, shards, strict=True):
            for f in shard.failures:
                worst.offer((f["iou"], f["name"]), dict(f, dir=d))
        failures = worst.worst_first()
        for f in failures:
            shutil.copyfile(f.pop("dir") / f["file"], _ensure_parent(staging / f["file"]))
        context = {key: first[key] for key in ("source", "dataset", "split", "settings")} | {
            "shard": None,
            SPLIT_IMAGES: split_size(metas),
            "merged_from": [str(d) for d in dirs],
            "failures": failures,
            "failure_candidates": sum(shard.failure_candidates for shard in shards),
        }
        counts = [shard.nonfinite for shard in shards if shard.nonfinite is not None]
        if counts:
            context["nonfinite_outputs"] = {k: sum(c.get(k, 0) for c in counts) for k in counts[0]}
        outcome = _written(staging, evaluator.compute(), classes, context, title)
    outcome.path = Path(out)
    print_metrics(outcome.metrics, title, CLASS_COLUMNS)
    return outcome


def _ensure_parent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _concat_per_image(dirs: Sequence[Path], target: Path) -> None:
    """Concatenate the shards' per-image rows, refusing shards that share an image."""
    seen: dict[str, Path] = {}
    with target.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["name", "iou"])
        for d in dirs:
            path = d / PER_IMAGE_FILE
            if not path.is_file():
                raise CvtoolError(f"{path} not found: {d} is not a complete eval directory")
            with path.open(newline="") as rows:
                reader = csv.reader(rows)
                next(reader, None)  # header
                for row in reader:
                    if row[0] in seen:
                        raise CvtoolError(
                            f"image {row[0]!r} is in both {seen[row[0]]} and {d}: the shards "
                            "overlap, so merging would count it twice"
                        )
                    seen[row[0]] = d
                    writer.writerow(row)
