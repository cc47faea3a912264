"""Benchmark of the classification evaluation's own work (the model's forward pass aside).

1. Streaming metrics: `ClassificationMetrics.update` per batch of 64 (confusion matrix,
   calibration bins) vs the obvious baseline, collecting every prediction and calling sklearn's
   `confusion_matrix` + `precision_recall_fscore_support` once at the end (no calibration).
2. t-SNE (2-D and 3-D, 400 points of 512-d features, as `--tsne-max 200`): on one thread, as
   `cvtool.classify.embedding` runs it, vs sklearn's default OpenMP threads.

    python benchmarks/bench_classify.py [--images 200000] [--classes 100]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _data(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, k, n)
    logits = rng.normal(0, 1, (n, k)).astype(np.float32)
    logits[np.arange(n), labels] += 2.0
    probs = np.exp(logits)
    return probs / probs.sum(1, keepdims=True), labels


def _best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_metrics(n: int, k: int, batch: int = 64) -> None:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    from cvtool.classify.metrics import ClassificationMetrics

    probs, labels = _data(n, k)

    def streaming() -> None:
        metrics = ClassificationMetrics(k)
        for i in range(0, n, batch):
            metrics.update(probs[i : i + batch], labels[i : i + batch])
        metrics.compute()

    def collect_then_sklearn() -> None:
        preds = [probs[i : i + batch].argmax(1) for i in range(0, n, batch)]
        pred = np.concatenate(preds)
        confusion_matrix(labels, pred, labels=range(k))
        precision_recall_fscore_support(labels, pred, labels=range(k), zero_division=0)

    ours, baseline = _best_of(streaming), _best_of(collect_then_sklearn)
    print(f"metrics, {n:,} images x {k} classes, batches of {batch}:")
    print(f"  streaming ClassificationMetrics: {ours:.3f} s ({n / ours:,.0f} images/s)")
    print(f"  collect + sklearn (no ECE):      {baseline:.3f} s ({n / baseline:,.0f} images/s)")
    print(f"  ratio sklearn / streaming:       {baseline / ours:.2f}x")


def bench_tsne(points: int = 400, dim: int = 512) -> None:
    from cvtool.classify.embedding import tsne

    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (points, dim)).astype(np.float32) + rng.integers(0, 10, (points, 1))
    tsne(x[:20], 2)  # imports and first-call setup out of the timing

    def run(threads: int | None) -> float:
        return _best_of(lambda: (tsne(x, 2, threads=threads), tsne(x, 3, threads=threads)), 2)

    single, default = run(1), run(None)
    print(f"t-SNE 2-D + 3-D, {points} points x {dim}-d:")
    print(f"  one thread (as evaluate runs it): {single:.2f} s")
    print(f"  sklearn's default threads:        {default:.2f} s")
    print(f"  ratio default / one thread:       {default / single:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200_000)
    parser.add_argument("--classes", type=int, default=100)
    args = parser.parse_args()
    bench_metrics(args.images, args.classes)
    bench_tsne()


if __name__ == "__main__":
    main()
