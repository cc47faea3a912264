"""Benchmark the detect stage: COCOeval backends, TIDE, matching, and YOLO inference speed.

    .venv/bin/python benchmarks/bench_detect.py [--repeat 10] [--data ../shared/data]

The real COCO subset (79 images) is tiled `--repeat` times (fresh image and object ids) and
evaluated against simulated-detector predictions padded with low-score background boxes, so the
load resembles a real detector run at conf 0.001. Each line gives a ratio against the obvious
baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.boxes import box_iou
from cvtool.detect.coco_eval import coco_evaluate
from cvtool.detect.cocodata import (
    GroundTruth,
    _as_arrays,
    _checked_arrays,
    load_ground_truth,
    load_predictions,
)
from cvtool.detect.matching import match_predictions
from cvtool.detect.scales import ground_truth_scales, prediction_scales
from cvtool.detect.tide import tide_by_scale, tide_evaluate
from cvtool.synthetic.detections import Damage, damaged_predictions


def tiled(dataset: dict[str, Any], repeat: int) -> dict[str, Any]:
    out = {"categories": dataset["categories"], "images": [], "annotations": []}
    for r in range(repeat):
        offset = r * 10_000_000
        for im in dataset["images"]:
            out["images"].append({**im, "id": im["id"] + offset})
        for ann in dataset["annotations"]:
            out["annotations"].append(
                {**ann, "id": ann["id"] + offset, "image_id": ann["image_id"] + offset}
            )
    return out


def timed(fn, *args, **kwargs) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def naive_match(preds, gt: GroundTruth, threshold: float = 0.5) -> np.ndarray:
    """Baseline: per-pair Python IoU, greedy by score, no vectorisation."""
    by_image: dict[int, list[int]] = {}
    for i, image in enumerate(gt.ann_image.tolist()):
        by_image.setdefault(image, []).append(i)
    matched = np.full(len(preds), -1)
    order = sorted(range(len(preds)), key=lambda k: (preds.image_id[k], -preds.score[k]))
    used: set[int] = set()
    for k in order:
        best, best_iou = -1, threshold
        for j in by_image.get(int(preds.image_id[k]), []):
            if j in used or gt.ann_crowd[j] or gt.ann_category[j] != preds.category_id[k]:
                continue
            iou = float(box_iou(preds.box[k : k + 1], gt.ann_box[j : j + 1])[0, 0])
            if iou >= best_iou:
                best, best_iou = j, iou
        if best >= 0:
            used.add(best)
            matched[k] = best
    return matched


def bench_eval(annotations: Path, repeat: int, background_per_image: int) -> None:
    import json
    import tempfile

    base = json.loads(annotations.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gt.json"
        path.write_text(json.dumps(tiled(base, repeat)))
        gt = load_ground_truth(path)
        raw = damaged_predictions(gt, Damage.demo(), seed=0)
        padding = background_per_image * len(gt.image_ids) / int((~gt.ann_crowd).sum())
        pad = damaged_predictions(gt, Damage(miss=1.0, background=padding), seed=1)
        raw += [{**d, "score": d["score"] * 0.1} for d in pad]
        preds = load_predictions(raw, gt)
    _, t_fast = timed(_as_arrays, raw)
    _, t_checked = timed(_checked_arrays, raw, "benchmark")
    print(f"read {len(raw)} predictions: {t_fast:.2f} s vectorised vs {t_checked:.2f} s entry by "
          f"entry = {t_checked / t_fast:.1f}x faster")  # fmt: skip
    objects = int((~gt.ann_crowd).sum())
    print(f"eval set: {len(gt.image_ids)} images, {objects} objects, {len(preds)} predictions")
    ref, t_ref = timed(coco_evaluate, gt, preds, "pycocotools")
    try:
        fast, t_fast = timed(coco_evaluate, gt, preds, "faster-coco-eval")
        same = fast.stats == ref.stats
        print(f"COCOeval pycocotools      {t_ref:7.2f} s")
        print(f"COCOeval faster-coco-eval {t_fast:7.2f} s   {t_ref / t_fast:5.1f}x faster, "
              f"stats identical: {same}")  # fmt: skip
    except Exception as e:
        print(f"COCOeval pycocotools {t_ref:.2f} s; faster-coco-eval unavailable ({e})")
    match, t_match = timed(match_predictions, preds, gt)
    sub = preds.subset(np.isin(preds.image_id, gt.image_ids[: max(1, len(gt.image_ids) // repeat)]))
    naive, t_naive = timed(naive_match, sub, gt)
    sub_match, t_sub = timed(match_predictions, sub, gt)
    assert (naive == sub_match.matched).all()
    print(f"IoU-0.5 matching (all)    {t_match:7.2f} s")
    print(
        f"  on {len(sub)} predictions: {t_sub:.3f} s vs per-pair Python {t_naive:.3f} s "
        f"= {t_naive / t_sub:5.1f}x faster"
    )
    import tidecv  # noqa: F401 - import (and OpenCV's) outside the timing

    keep_all = (np.ones(len(gt.ann_area), bool), np.ones(len(preds), bool))
    _, t_tide1 = timed(tide_evaluate, gt, preds, *keep_all)
    scales = prediction_scales(preds, gt, match)
    _, t_tide4 = timed(tide_by_scale, gt, preds, ground_truth_scales(gt), scales)
    print(f"TIDE all objects          {t_tide1:7.2f} s")
    print(f"TIDE all + 3 scales       {t_tide4:7.2f} s   {t_tide4 / t_tide1:5.2f}x one TIDE run")


def bench_inference(images: Path, count: int) -> None:
    from cvtool.detect.yolo import YoloOptions, load_yolo

    model = load_yolo("yolov8n.yaml")
    paths = sorted(str(p) for p in images.glob("*.jpg"))[:count]
    for imgsz in (320, 640):
        rates = {}
        for batch in (1, 8):
            opts = YoloOptions()
            model.predict(paths[:2], imgsz=imgsz, device="cpu", verbose=False)  # warm-up
            start = time.perf_counter()
            for i in range(0, len(paths), batch):
                chunk = paths[i : i + batch]
                model.predict(
                    chunk, imgsz=imgsz, conf=opts.conf, iou=opts.iou, device="cpu", verbose=False
                )
            rates[batch] = len(paths) / (time.perf_counter() - start)
        print(f"YOLOv8n CPU imgsz {imgsz}: {rates[8]:6.1f} img/s at batch 8, "
              f"{rates[1]:6.1f} img/s at batch 1 ({rates[8] / rates[1]:.2f}x)")  # fmt: skip


def main() -> None:
    default = Path(
        os.environ.get("CVTOOL_TEST_DATA", Path(__file__).parents[1].parent / "shared" / "data")
    )
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--background", type=int, default=100, help="padding boxes per image")
    parser.add_argument("--images", type=int, default=32, help="images for the inference timing")
    args = parser.parse_args()
    coco = args.data / "coco"
    import torch

    print(f"CPU threads: {torch.get_num_threads()}, cores: {os.cpu_count()}")
    bench_eval(coco / "annotations" / "instances_val2017.json", args.repeat, args.background)
    bench_inference(coco / "val2017", args.images)


if __name__ == "__main__":
    main()
