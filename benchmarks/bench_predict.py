"""Benchmark of `cvtool predict` and of ONNX Runtime against PyTorch, in one run.

1. Overhead of `predict`: images/s of the bare forward pass (images already decoded and
   preprocessed, batches of 4) vs the whole command path (decode, preprocess, forward,
   upsample, softmax, write the mask and overlay PNGs, staging dir, manifest), on the same
   CamVid-sized 360x480 images with a U-Net (width 16) trained for one epoch at 96x128.
2. ONNX Runtime vs PyTorch on the CPU: images/s of the same preprocessed batches through the
   PyTorch model and its ONNX export, for the U-Net and the `convnet` classifier (224x224).

    python benchmarks/bench_predict.py [--images 24] [--repeats 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

import cvtool
from cvtool.core.images import read_rgb_chw
from cvtool.core.transforms import eval_transform
from cvtool.deploy.models import load_model
from cvtool.synthetic.datasets import random_classification_dataset, random_segmentation_dataset

BATCH = 4


def _images(folder: Path, count: int, seed: int = 0) -> list[Path]:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    paths = []
    for i in range(count):
        path = folder / f"frame_{i:03d}.png"
        Image.fromarray(rng.integers(0, 255, (360, 480, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def _best_rate(fn: Callable[[], int], repeats: int) -> float:
    """Images per second of the fastest of `repeats` runs of `fn` (which returns images)."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        count = fn()
        rates.append(count / (time.perf_counter() - start))
    return max(rates)


def _batches(run: Path, paths: list[Path], crop: bool) -> list[Any]:
    info = load_model(run).info
    assert info is not None
    p = info.preprocess
    transform = eval_transform(size=p.size, crop=p.crop if crop else None, mean=p.mean, std=p.std)
    tensors = [transform(torch.from_numpy(read_rgb_chw(path))) for path in paths]
    return [torch.stack(tensors[i : i + BATCH]) for i in range(0, len(tensors), BATCH)]


def _forward(module: Any, batches: list[Any]) -> Callable[[], int]:
    def run() -> int:
        with torch.inference_mode():
            for batch in batches:
                module(batch)
        return sum(len(b) for b in batches)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        common = {"epochs": 1, "batch_size": 4, "device": "cpu", "workers": 0}
        seg = random_segmentation_dataset(tmp / "seg")
        unet = cvtool.train("unet", seg, tmp / "unet", width=16, upsample="bilinear",
                            size="96x128", **common).path  # fmt: skip
        cls = random_classification_dataset(tmp / "cls")
        convnet = cvtool.train("convnet", cls, tmp / "convnet", size="224x224", **common).path
        paths = _images(tmp / "images", args.images)

        batches = _batches(unet, paths, crop=False)
        model = load_model(unet).module
        bare = _best_rate(_forward(model, batches), args.repeats)
        runs = iter(range(args.repeats))

        def whole() -> int:
            out = tmp / f"pred{next(runs)}"
            return cvtool.predict(unet, tmp / "images", out, device="cpu", batch_size=BATCH).images

        full = _best_rate(whole, args.repeats)
        print(f"U-Net, {args.images} images 360x480 (model input 96x128), batches of {BATCH}, "
              f"{torch.get_num_threads()} torch threads")  # fmt: skip
        print(f"  bare forward pass      {bare:8.1f} images/s")
        print(f"  cvtool predict         {full:8.1f} images/s   ratio {full / bare:.2f}")

        # PyTorch first, before any ONNX Runtime session (and its thread pool) exists.
        rates: dict[str, list[float]] = {}
        inputs = {"unet": (unet, False), "convnet": (convnet, True)}
        for name, (run, crop) in inputs.items():
            rates[name] = [_best_rate(_forward(load_model(run).module, _batches(run, paths, crop)),
                                      args.repeats)]  # fmt: skip
        print("ONNX Runtime (CPU) vs PyTorch (CPU), same preprocessed batches:")
        for name, (run, crop) in inputs.items():
            exported = cvtool.export(run, "onnx", tmp / f"{name}.onnx").path
            onnx_rate = _best_rate(
                _forward(load_model(exported).module, _batches(run, paths, crop)), args.repeats
            )
            torch_rate = rates[name][0]
            print(f"  {name:8s} PyTorch {torch_rate:8.1f} images/s   ONNX Runtime "
                  f"{onnx_rate:8.1f} images/s   ratio {onnx_rate / torch_rate:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
