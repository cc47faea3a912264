"""Benchmark of `cvtool evaluate`'s streaming metrics.

1. Metric overhead: images/s of the model's forward pass alone vs forward + softmax + the full
   `SegmentationEvaluator` update (confusion, per-image IoU, AP histograms, calibration).
2. Memory and time at N and 10·N images (CamVid-sized 360x480, 12 classes): the streaming
   evaluator vs the naive approach of collecting every prediction and label, then calling
   sklearn's `confusion_matrix` (which computes far less: no AP, calibration or per-image
   IoU). Each measurement runs in a fresh process; peak memory is the growth of the process's
   resident set (sampled every millisecond) over its size after imports and setup.

    python benchmarks/bench_evaluate.py [--images 8] [--forward-images 16]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time

HEIGHT, WIDTH, CLASSES, BATCH = 360, 480, 12, 4


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


class PeakRss:
    """Sample the resident set every millisecond in a thread; `peak` is the largest seen."""

    def __init__(self) -> None:
        self.peak = _rss_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, _rss_mib())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mib())


def _synthetic_batch(seed: int):
    """Labels with 5 % ignore pixels and partly right, softmax-ed scores."""
    import torch

    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, CLASSES, (BATCH, HEIGHT, WIDTH), generator=g)
    logits = torch.randn(BATCH, CLASSES, HEIGHT, WIDTH, generator=g)
    logits.scatter_add_(1, labels[:, None], torch.full((BATCH, 1, HEIGHT, WIDTH), 3.0))
    labels[torch.rand(labels.shape, generator=g) < 0.05] = 255
    return labels, logits.softmax(1)


def child(method: str, images: int) -> dict[str, float]:
    """One memory/time measurement (run in its own process).

    The model output (one batch, reused) is made before the baseline, so the peak growth is
    the metric computation's own memory.
    """
    import numpy as np

    from cvtool.segment.metrics import SegmentationEvaluator

    evaluator = SegmentationEvaluator(CLASSES)
    labels, probs = _synthetic_batch(0)
    preds, targets = [], []
    base = _rss_mib()
    start = time.perf_counter()
    with PeakRss() as rss:
        for _ in range(images // BATCH):
            if method == "streaming":
                evaluator.update(labels, probs=probs)
            else:
                preds.append(probs.argmax(1).numpy().astype(np.uint8))
                targets.append(labels.numpy().astype(np.uint8))
        if method == "streaming":
            miou = evaluator.compute().scores.miou
        else:
            from sklearn.metrics import confusion_matrix

            target, pred = np.concatenate(targets).ravel(), np.concatenate(preds).ravel()
            keep = target != 255
            cm = confusion_matrix(target[keep], pred[keep], labels=range(CLASSES))
            tp = np.diag(cm)
            miou = float(np.mean(tp / (cm.sum(0) + cm.sum(1) - tp)))
    elapsed = time.perf_counter() - start
    return {"peak_mib": rss.peak - base, "seconds": elapsed, "miou": miou}


def measure(method: str, images: int) -> dict[str, float]:
    # Large blocks via mmap, so freed memory leaves the resident set at once and the peak is
    # the data actually held, not what glibc's heap happens to retain.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
    out = subprocess.run(
        [sys.executable, __file__, "--child", method, "--images", str(images)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def overhead(images: int) -> tuple[float, float]:
    """Images/s of forward alone and of forward + metrics, on the same inputs, CPU (best of 3)."""
    import torch

    from cvtool.engine.registry import build_model
    from cvtool.segment.metrics import SegmentationEvaluator

    torch.manual_seed(0)
    model = build_model("unet", CLASSES, width=16).eval()
    batches = [_synthetic_batch(i) for i in range(images // BATCH)]
    inputs = [torch.randn(BATCH, 3, HEIGHT, WIDTH) for _ in batches]

    def run(with_metrics: bool) -> float:
        evaluator = SegmentationEvaluator(CLASSES)
        start = time.perf_counter()
        with torch.inference_mode():
            for x, (labels, _) in zip(inputs, batches, strict=True):
                logits = model(x)
                if with_metrics:
                    evaluator.update(labels, probs=logits.float().softmax(1))
        return len(inputs) * BATCH / (time.perf_counter() - start)

    run(False)  # warm-up
    best = {False: 0.0, True: 0.0}
    for _ in range(3):  # interleaved, best of three: the machine is shared
        for with_metrics in (False, True):
            best[with_metrics] = max(best[with_metrics], run(with_metrics))
    return best[False], best[True]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=8, help="N (a multiple of 4)")
    parser.add_argument("--forward-images", type=int, default=8)
    parser.add_argument("--child", choices=["streaming", "naive"])
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.images)))
        return

    forward, full = overhead(args.forward_images)
    print(f"metric overhead (U-Net width 16, {HEIGHT}x{WIDTH}, {CLASSES} classes, CPU):")
    print(f"  forward only      {forward:7.2f} images/s")
    print(f"  forward + metrics {full:7.2f} images/s   ratio {forward / full:.2f}x the time")
    n = args.images
    print(f"\nmemory and time at N={n} and 10N={10 * n} images ({HEIGHT}x{WIDTH}):")
    results = {(m, k): measure(m, k) for m in ("streaming", "naive") for k in (n, 10 * n)}
    for m in ("streaming", "naive"):
        small, large = results[(m, n)], results[(m, 10 * n)]
        print(
            f"  {m:9s} peak +{small['peak_mib']:7.1f} MiB -> +{large['peak_mib']:7.1f} MiB"
            f"   time {small['seconds']:6.2f} s -> {large['seconds']:6.2f} s"
        )
    s, v = results[("streaming", 10 * n)], results[("naive", 10 * n)]
    assert abs(s["miou"] - v["miou"]) < 1e-9, "streaming and naive mIoU disagree"
    print(
        f"\nat 10N: naive / streaming peak memory {v['peak_mib'] / max(s['peak_mib'], 0.1):.1f}x;"
        f" mIoU identical ({s['miou']:.6f}); streaming also computes AP, calibration and"
        " per-image IoU"
    )


if __name__ == "__main__":
    main()
