"""Benchmark of `cvtool calibrate` on CamVid's 25 validation images at full resolution (360x480,
about 4.2 million labelled pixels x 12 classes): every pixel streamed from disk (the default),
every pixel held in memory (`subsample=1.0`), and uniform pixel subsamples.

Each variant runs `cvtool.calibrate` in a fresh process (so its peak resident memory is its own)
on the same small U-Net, trained here for 4 epochs at 96x128; the logits are upsampled to the
label resolution as in evaluation. Printed: wall time (the best of `--repeat` runs, taken in
turns, as the CPU may be shared), peak memory and the temperature of each, and their ratios to
the default.

    python benchmarks/bench_calibrate.py [--camvid ../shared/data/camvid] [--workers 2] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHILD = """
import json, resource, sys, time
import cvtool
run, subsample, workers = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
start = time.perf_counter()
result = cvtool.calibrate(run, subsample=subsample, device="cpu", workers=workers)
print(json.dumps({"seconds": time.perf_counter() - start, "samples": result.samples,
                  "temperature": result.parameters["temperature"],
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
VARIANTS = (
    ("all pixels, streamed from disk", None),
    ("all pixels, in memory", 1.0),
    ("subsample 0.1", 0.1),
    ("subsample 0.01", 0.01),
)


def _child(run: Path, subsample: float | None, workers: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [sys.executable, "-c", CHILD, str(run), json.dumps(subsample), str(workers)]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    default_root = Path(os.environ.get("CVTOOL_TEST_DATA", REPO.parent / "shared" / "data"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--camvid", type=Path, default=default_root / "camvid")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    import cvtool

    with tempfile.TemporaryDirectory() as tmp:
        data = cvtool.prepare_camvid(args.camvid, Path(tmp) / "camvid", workers=args.workers)
        options = {"width": 8, "upsample": "bilinear", "epochs": 4, "batch_size": 8, "lr": 0.003}
        run = cvtool.train(
            "unet",
            data.path,
            Path(tmp) / "unet",
            size="96x128",
            device="cpu",
            workers=0,
            **options,
        ).path
        runs: dict[str, list[dict]] = {name: [] for name, _ in VARIANTS}
        for _ in range(args.repeat):
            for name, subsample in VARIANTS:
                runs[name].append(_child(run, subsample, args.workers))
        rows = [(name, min(found, key=lambda r: r["seconds"])) for name, found in runs.items()]
    base = rows[0][1]
    print(f"cvtool calibrate, CamVid val at full resolution ({base['samples']:,} pixels):")
    print(
        f"  {'variant':32} {'pixels':>10} {'time s':>7} {'peak MB':>8} {'T':>8}  ratios to "
        "the default: time, memory, T"
    )
    for name, r in rows:
        print(
            f"  {name:32} {r['samples']:>10,} {r['seconds']:>7.2f} {r['peak_mb']:>8.0f} "
            f"{r['temperature']:>8.4f}  {r['seconds'] / base['seconds']:.2f}x, "
            f"{r['peak_mb'] / base['peak_mb']:.2f}x, {r['temperature'] / base['temperature']:.4f}"
        )


if __name__ == "__main__":
    main()
