"""Prepare-stage benchmark, every comparison measured side by side in one run.

1. CamVid RGB -> index: the vectorised 24-bit lookup (`LabelDecoder.decode_rgb`) against a
   straightforward per-pixel dictionary loop, on the same label images in memory.
2. CamVid per image: read label PNG + decode + write index PNG against the bare cost of reading
   the label PNG and writing a PNG of the same size (what any approach must pay).
3. COCO mask generation (`prepare coco`, end to end) in images/s with 1 worker and all cores,
   on the real COCO subset when present and on a larger synthetic shapes set.

Uses `$CVTOOL_TEST_DATA` (default `../shared/data`) for CamVid/COCO; falls back to synthetic
labels when absent.

    python benchmarks/bench_prepare.py [--loop-images 2] [--shapes 400]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from cvtool.core.artifacts import IGNORE_INDEX
from cvtool.core.images import write_index_png
from cvtool.core.parallel import default_workers
from cvtool.formats.camvid import build_decoder, read_class_dict
from cvtool.formats.coco import prepare_coco
from cvtool.synthetic.shapes import SHAPES, make_coco_shapes

DATA = Path(os.environ.get("CVTOOL_TEST_DATA", Path(__file__).resolve().parents[2] / "shared/data"))


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def camvid_labels(tmp: Path) -> tuple[list[Path], list[tuple[str, tuple[int, int, int]]], Path]:
    """Real CamVid label files, or synthetic ones written to `tmp`."""
    root = DATA / "camvid"
    if (root / "train_labels").is_dir():
        labels = sorted((root / "train_labels").glob("*_L.png"))[:40]
        return labels, read_class_dict(root / "class_dict.csv"), root
    from cvtool.formats.camvid import SEGNET_CLASSES

    rng = np.random.default_rng(0)
    palette = np.array([c for _, c in SEGNET_CLASSES], np.uint8)
    labels = []
    for i in range(40):
        path = tmp / f"{i:03d}_L.png"
        Image.fromarray(palette[rng.integers(0, len(palette), (360, 480))]).save(path)
        labels.append(path)
    return labels, list(SEGNET_CLASSES), tmp


def loop_decode(rgb: np.ndarray, lookup: dict[tuple[int, int, int], int]) -> np.ndarray:
    """The baseline: one dictionary lookup per pixel."""
    out = np.empty(rgb.shape[:2], np.uint8)
    for y in range(rgb.shape[0]):
        for x in range(rgb.shape[1]):
            r, g, b = rgb[y, x]
            out[y, x] = lookup.get((int(r), int(g), int(b)), IGNORE_INDEX)
    return out


def bench_camvid(loop_images: int, tmp: Path) -> None:
    labels, source_classes, where = camvid_labels(tmp)
    _, decoder, _ = build_decoder(source_classes, "ignore")
    lookup = {tuple(c): v for c, v in zip(decoder.colors, decoder.values, strict=True)}
    rgbs = [np.asarray(Image.open(p).convert("RGB")) for p in labels]
    mpx = sum(r.shape[0] * r.shape[1] for r in rgbs) / 1e6
    decoder.decode_rgb(rgbs[0])  # build the lookup table once, as each worker does
    vec = best_of(lambda: [decoder.decode_rgb(r) for r in rgbs])
    subset = rgbs[:loop_images]
    sub_mpx = sum(r.shape[0] * r.shape[1] for r in subset) / 1e6
    start = time.perf_counter()
    looped = [loop_decode(r, lookup) for r in subset]
    loop = time.perf_counter() - start
    for got, r in zip(looped, subset, strict=True):
        assert np.array_equal(got, decoder.decode_rgb(r).mask), "vectorised != loop"
    print(f"CamVid RGB->index on {len(rgbs)} labels from {where} ({mpx:.1f} Mpx)")
    print(f"  vectorised lookup   {mpx / vec:10.1f} Mpx/s")
    print(f"  per-pixel dict loop {sub_mpx / loop:10.3f} Mpx/s  ({len(subset)} images)")
    print(f"  speed-up            {(mpx / vec) / (sub_mpx / loop):10.0f}x")

    out = tmp / "out"
    masks = [decoder.decode_rgb(r).mask for r in rgbs]

    def io_only() -> None:  # the same reads and the same mask PNGs, without decoding
        for i, p in enumerate(labels):
            np.asarray(Image.open(p).convert("RGB"))
            write_index_png(out / f"{i}.png", masks[i])

    def full() -> None:
        for i, p in enumerate(labels):
            write_index_png(out / f"{i}.png", decoder.decode_file(p).mask)

    bare, whole = best_of(io_only), best_of(full)
    print(f"  read+write PNG only {len(labels) / bare:10.1f} images/s")
    print(f"  read+decode+write   {len(labels) / whole:10.1f} images/s")
    print(f"  decoding adds       {100 * (whole - bare) / bare:10.1f} % to the bare PNG I/O")


def bench_coco(annotations: Path, images: Path, classes: list[str], label: str) -> None:
    cores = default_workers()
    rates = {}
    for workers in sorted({1, cores}):
        with tempfile.TemporaryDirectory() as tmp:

            def run(tmp: str = tmp, workers: int = workers) -> None:
                prepare_coco(
                    annotations, images, classes, Path(tmp) / "o", workers=workers, overwrite=True
                )

            seconds = best_of(run, repeats=2)
            n = sum(1 for _ in (Path(tmp) / "o" / "masks").iterdir())
        rates[workers] = n / seconds
        print(f"  {label}: {workers:2d} worker(s) {n / seconds:8.1f} images/s ({n} images)")
    if cores > 1:
        print(f"  {label}: speed-up with {cores} cores {rates[cores] / rates[1]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loop-images", type=int, default=2, help="images for the slow loop")
    parser.add_argument("--shapes", type=int, default=400, help="synthetic COCO images")
    args = parser.parse_args()
    print(f"cores available: {default_workers()}")
    with tempfile.TemporaryDirectory() as tmp:
        bench_camvid(args.loop_images, Path(tmp))
    print("COCO mask generation (prepare coco end to end: masks, previews, links)")
    coco = DATA / "coco"
    if (coco / "annotations" / "instances_val2017.json").is_file():
        bench_coco(
            coco / "annotations" / "instances_val2017.json",
            coco / "val2017",
            ["person", "car", "bus", "dog"],
            "real COCO",
        )
    with tempfile.TemporaryDirectory() as tmp:
        ann, imgs = make_coco_shapes(Path(tmp), num_images=args.shapes, size=256, seed=0)
        bench_coco(ann, imgs, list(SHAPES), "shapes 256px")


if __name__ == "__main__":
    main()
