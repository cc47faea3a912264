"""Evaluate a classifier checkpoint on a split of a prepared classification dataset.

Streams batches through `ClassificationMetrics` (confusion matrix and calibration bins, O(1)
memory in the number of images), writes `predictions.csv` as it goes, keeps the
`max_failures` most confidently wrong images for the gallery, then embeds the penultimate
features of (at most `tsne_max` per split) train and validation images with t-SNE. The eval dir
is built in a staging directory and swapped in when complete.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.classify.embedding import MIN_POINTS, Embedding, embed
from cvtool.classify.inference import predict_split
from cvtool.classify.metrics import ClassificationMetrics
from cvtool.classify.plots import Misclassified, plot_misclassified, plot_tsne
from cvtool.classify.report import CLASS_COLUMNS, write_classification_report
from cvtool.classify.split import ClassSplit, load_class_split
from cvtool.core.artifacts import atomic_write_text, csv_text, staged_output_dir
from cvtool.core.errors import CvtoolError
from cvtool.core.evaldir import FAILURES_DIR, EvalOutcome, EvalSettings
from cvtool.core.finite import NonFiniteOutputs
from cvtool.core.images import read_rgb
from cvtool.core.inference import Inference
from cvtool.core.logit_calibration import Calibration, apply_calibration
from cvtool.core.tables import print_metrics
from cvtool.core.worst import WorstK

PREDICTIONS_FILE = "predictions.csv"
GALLERY_FILE = f"{FAILURES_DIR}/misclassified.png"
TSNE_SPLITS = ("train", "val")


# The most confident mistakes first, ties by position: `(index, label, predicted, confidence)`.
Mistakes = WorstK[tuple[int, int, int, float]]


def _score_split(
    checkpoint: Any,
    split: ClassSplit,
    staging: Path,
    s: EvalSettings,
    run: Inference,
    calibration: Calibration | None,
    outputs: NonFiniteOutputs,
) -> tuple[ClassificationMetrics, Mistakes]:
    names = split.manifest.class_names
    metrics = ClassificationMetrics(len(names), s.bins, with_raw=calibration is not None)
    failures: Mistakes = WorstK(s.max_failures)
    with (staging / PREDICTIONS_FILE).open("w", newline="") as f:
        rows = csv.writer(f, lineterminator="\n")
        rows.writerow(["path", "label", "predicted", "confidence", "correct"])
        for out in predict_split(checkpoint, split, run, cache=s.cache):
            labels = split.labels[out.start : out.start + len(out.logits)]
            logits = outputs.clean(out.logits)
            probs = apply_calibration(logits, calibration).softmax(dim=1)
            raw = None if calibration is None else logits.softmax(dim=1)
            metrics.update(probs, labels, raw)
            conf, pred = (t.cpu().numpy() for t in probs.max(dim=1))
            for i, (label, p, c) in enumerate(zip(labels, pred, conf, strict=True)):
                index = out.start + i
                rows.writerow(
                    [split.names[index], names[label], names[p], f"{c:.6f}", int(label == p)]
                )
                if label != p:
                    failures.offer((-float(c), index), (index, int(label), int(p), float(c)))
    return metrics, failures


def _gallery(split: ClassSplit, failures: Mistakes, staging: Path, title: str) -> list[dict]:
    names = split.manifest.class_names
    worst = failures.worst_first()
    items = [
        Misclassified(read_rgb(split.paths[i]), split.names[i], names[t], names[p], c)
        for i, t, p, c in worst
    ]
    if items:
        plot_misclassified(items, staging / GALLERY_FILE, f"{title}: most confident mistakes")
    return [
        {"path": m.name, "true": m.true, "predicted": m.predicted, "confidence": m.confidence}
        for m in items
    ]


def _embedding(
    checkpoint: Any, data_dir: Path, tsne_max: int, run: Inference, notes: list[str]
) -> Embedding | None:
    """Penultimate features of up to `tsne_max` images of each of train and val, embedded."""
    splits, names, labels, feats = [], [], [], []
    for name in TSNE_SPLITS:
        try:
            part = load_class_split(data_dir, name).subsample(tsne_max)
        except CvtoolError as e:
            notes.append(f"t-SNE leaves out split {name!r}: {e.message}")
            continue
        for out in predict_split(checkpoint, part, run, features=True):
            feats.append(out.features)
        splits += [name] * len(part.names)
        names += part.names
        labels.append(part.labels)
    if len(names) < MIN_POINTS:
        notes.append(f"no t-SNE: it needs at least {MIN_POINTS} train/val images")
        return None
    features = np.concatenate(feats)
    bad = int((~np.isfinite(features).all(axis=1)).sum())
    if bad:
        notes.append(f"no t-SNE: the penultimate features of {bad} image(s) hold NaN or Inf")
        return None
    return embed(splits, names, np.concatenate(labels), features)


def _write_embedding(emb: Embedding, class_names: list[str], staging: Path, title: str) -> dict:
    header = ["split", "path", "label", "x", "y", "x3", "y3", "z3"]
    rows = (
        [s, n, class_names[c], *np.round(a, 4).tolist(), *np.round(b, 4).tolist()]
        for s, n, c, a, b in zip(emb.splits, emb.names, emb.labels, emb.xy, emb.xyz, strict=True)
    )
    atomic_write_text(staging / "tsne.csv", csv_text(header, rows))
    what = f"{title}: t-SNE of {emb.feature_dim}-d penultimate features"
    for coords, file in ((emb.xy, "plots/tsne_2d.png"), (emb.xyz, "plots/tsne_3d.png")):
        plot_tsne(coords, emb.labels, emb.splits, class_names, staging / file, what)
    counts = {s: emb.splits.count(s) for s in dict.fromkeys(emb.splits)}
    return {"feature_dim": emb.feature_dim, "images": counts, "file": "tsne.csv"}


def evaluate_classifier(
    checkpoint: Any,
    data_dir: Path,
    split: str,
    out: Path,
    settings: EvalSettings,
    run: Inference,
    source: dict[str, Any],
    title: str,
    calibration: Calibration | None = None,
) -> EvalOutcome:
    """Score a loaded classification checkpoint on `split` of `data_dir` (with `calibration`
    applied to its logits, when given); write `out`."""
    eval_split = load_class_split(data_dir, split)
    class_names = eval_split.manifest.class_names
    notes: list[str] = []
    outputs = NonFiniteOutputs()
    with staged_output_dir(out, settings.overwrite) as staging:
        metrics, failures = _score_split(
            checkpoint, eval_split, staging, settings, run, calibration, outputs
        )
        gallery = _gallery(eval_split, failures, staging, title)
        emb = None
        if settings.tsne_max > 0:
            emb = _embedding(checkpoint, data_dir, settings.tsne_max, run, notes)
        context = {
            "source": source,
            "dataset": str(data_dir),
            "split": split,
            "settings": {
                "bins": settings.bins,
                "max_failures": settings.max_failures,
                "tsne_max": settings.tsne_max,
            },
            "failures": gallery,
            "misclassified": failures.offered,
            "gallery": GALLERY_FILE if gallery else None,
            "tsne": _write_embedding(emb, class_names, staging, source["name"]) if emb else None,
            "nonfinite_outputs": outputs.to_dict(),
        }
        report = metrics.compute()
        written = write_classification_report(
            staging, report, eval_split.manifest.classes, context, notes, title
        )
    print_metrics(written, title, CLASS_COLUMNS)
    return EvalOutcome(Path(out), written["headline"], written)
