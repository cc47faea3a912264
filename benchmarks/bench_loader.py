"""Training data loader throughput at 360x480 with `--augment standard`, measured side by side:

- `references`: a loader written the way torchvision's `references/segmentation` writes one
  (Pillow decoding, `v2` transforms on the PIL image and a `tv_tensors.Mask`, then
  `PILToTensor`, `ToDtype`, `Normalize`), with the same augmentation as cvtool's `standard`
  preset (random resized crop 0.8-1, flip, rotation ±15°, colour jitter 0.2);
- `v2 tensors`: the same `v2` pipeline on uint8 tensors decoded by `torchvision.io`, which is
  how cvtool loaded before (for comparison);
- `cvtool`: `SegmentationDataset` with `train_transform(..., "standard")` (one uint8 warp,
  uint8 jitter, one float conversion);
- `cvtool ram`: the same reading a `--cache ram` of decoded samples (its one-off build time is
  reported separately).

Each loader runs in this process on one core (torch and OpenCV on one thread, no loader
workers): images/s per core. Then each runs through a `DataLoader` with one worker per usable
core. Repeats are interleaved and the best is kept, so a busy machine hurts all loaders alike.
Uses the CamVid images of `$CVTOOL_TEST_DATA` (default `../shared/data`), else generated
360x480 scenes.

    python benchmarks/bench_loader.py [--images 60 --repeats 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from cvtool.core.threads import usable_cores
from cvtool.core.transforms import Preprocess, train_transform
from cvtool.engine.loader import WorkerLoader
from cvtool.segment.dataset import SegmentationDataset

DATA = Path(os.environ.get("CVTOOL_TEST_DATA", Path(__file__).resolve().parents[2] / "shared/data"))
SIZE = (360, 480)
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def prepared_dataset(tmp: Path, images: int) -> tuple[Path, str]:
    """CamVid prepared into `tmp`, or a generated dataset of 360x480 scenes."""
    if (DATA / "camvid" / "train").is_dir():
        from cvtool.formats.camvid import prepare_camvid

        return prepare_camvid(DATA / "camvid", tmp / "camvid", workers=1).path, "CamVid"
    from cvtool.core.artifacts import ClassInfo
    from cvtool.synthetic.datasets import write_segmentation_dataset

    rng = np.random.default_rng(0)
    samples = {}
    for i in range(images):
        mask = np.kron(rng.integers(0, 5, (9, 12)), np.ones((40, 40), np.int64)).astype(np.uint8)
        noise = rng.integers(0, 60, (*SIZE, 3))
        samples[f"{i:03d}.png"] = ((mask[..., None] * 40 + noise).astype(np.uint8), mask)
    classes = [ClassInfo(c, f"c{c}", (c * 40, c * 40, c * 40)) for c in range(5)]
    root = write_segmentation_dataset(tmp / "scenes", samples, classes, {"train": list(samples)})
    return root, "generated scenes"


class ReferencesDataset:
    """torchvision `references/segmentation` style: PIL decode, v2 transforms, ToDtype."""

    def __init__(self, ds: SegmentationDataset, pil: bool = True) -> None:
        from torchvision import tv_tensors
        from torchvision.transforms import v2

        self.items, self.pil = ds.items, pil
        image_type = torch.Tensor if pil else tv_tensors.Image
        self.transform = v2.Compose(
            [
                v2.RandomResizedCrop(list(SIZE), scale=(0.8, 1.0), antialias=True),
                v2.RandomHorizontalFlip(),
                v2.RandomRotation(15, fill={tv_tensors.Mask: 255, "others": 0}),
                v2.ColorJitter(0.2, 0.2, 0.2),
                *([v2.PILToTensor()] if pil else []),
                v2.ToDtype(
                    {image_type: torch.float32, tv_tensors.Mask: torch.int64, "others": None},
                    scale=True,
                ),
                v2.Normalize(MEAN, STD),
                v2.ToPureTensor(),
            ]
        )

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        from torchvision import tv_tensors
        from torchvision.io import ImageReadMode, decode_image

        item = self.items[index]
        mask = tv_tensors.Mask(torch.from_numpy(np.array(Image.open(item.mask))))
        if self.pil:
            return self.transform(Image.open(item.image).convert("RGB"), mask)
        image = tv_tensors.Image(decode_image(str(item.image), mode=ImageReadMode.RGB))
        return self.transform(image, mask)


def per_core(ds, n: int) -> float:
    """Images/s reading and transforming `n` items in this process (one core)."""
    start = time.perf_counter()
    for i in range(n):
        ds[i % len(ds)]
    return n / (time.perf_counter() - start)


def loader_rate(ds, n: int, workers: int) -> float:
    """Images/s through a DataLoader with `workers` worker processes (batches of 8)."""
    loader = WorkerLoader(ds, 8, torch.utils.data.RandomSampler(ds), workers)
    seen, start = 0, time.perf_counter()
    while seen < n:
        for images, _ in loader:
            seen += len(images)
            if seen >= n:
                break
    return seen / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=60, help="images per measurement")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cores = usable_cores()
    with tempfile.TemporaryDirectory() as tmp:
        root, what = prepared_dataset(Path(tmp), args.images)
        transform = train_transform(Preprocess(SIZE, None), "standard")
        cvtool = SegmentationDataset(root, "train", transform)
        cached = SegmentationDataset(root, "train", transform)
        start = time.perf_counter()
        cached.use_cache("ram", workers=cores, shared=True)
        build = time.perf_counter() - start
        plain = SegmentationDataset(root, "train")
        loaders = {
            "references": ReferencesDataset(plain),
            "v2 tensors": ReferencesDataset(plain, pil=False),
            "cvtool": cvtool,
            "cvtool ram": cached,
        }
        for ds in loaders.values():
            per_core(ds, 4)  # warm up (imports, first decode)
        one: dict[str, list[float]] = {name: [] for name in loaders}
        many: dict[str, list[float]] = {name: [] for name in loaders}
        for _ in range(args.repeats):
            for name, ds in loaders.items():
                one[name].append(per_core(ds, args.images))
            for name, ds in loaders.items():
                many[name].append(loader_rate(ds, args.images * cores, cores))
        best = {name: max(v) for name, v in one.items()}
        best_many = {name: max(v) for name, v in many.items()}
        print(
            f"{what}, {len(plain)} training images at {SIZE[0]}x{SIZE[1]}, augment standard, "
            f"best of {args.repeats}; {cores} usable cores, load average "
            f"{os.getloadavg()[0]:.2f}"
        )
        print(f"{'loader':12s} {'img/s, 1 core':>14s} {f'img/s, {cores} workers':>18s}")
        for name in loaders:
            print(f"{name:12s} {best[name]:14.1f} {best_many[name]:18.1f}")
        mib = cached.cache.nbytes / 2**20
        print(f"ram cache build: {build:.2f} s for {len(cached)} images, {mib:.0f} MiB")
        print(
            f"per core: cvtool / references {best['cvtool'] / best['references']:.2f}, "
            f"cvtool ram / cvtool {best['cvtool ram'] / best['cvtool']:.2f}, "
            f"cvtool / v2 tensors {best['cvtool'] / best['v2 tensors']:.2f}"
        )
        print(
            f"{cores} workers: cvtool / references "
            f"{best_many['cvtool'] / best_many['references']:.2f}, cvtool ram / cvtool "
            f"{best_many['cvtool ram'] / best_many['cvtool']:.2f}"
        )


if __name__ == "__main__":
    main()
