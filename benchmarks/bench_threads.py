"""Threading policy: the demo's U-Net training idle and beside other busy processes, old
default threading against the policy of `cvtool.core.threads`, measured side by side.

Each measurement trains the demo U-Net (`cvtool.demo.segment.train_demo_unet`: 64x64, width
16, batch 4, on the demo's generated shapes) in a fresh Python process, so the OpenMP
environment is read as the command line would set it, while this script runs the load:

- `idle`: nothing else;
- `2 busy`: two Python busy loops (one per core on a 2-core machine);
- `numpy`: one NumPy job with its default threads (matrix products and SVDs, BLAS threads);
- `2 torch`: two other PyTorch processes with torch's default threads (convolutions).

Threading variants:

- `before`: torch's defaults (as many intra-op threads as cores, OpenMP threads spin while
  they wait), what cvtool did before the policy;
- `policy`: cvtool's policy (threads = usable cores, `OMP_WAIT_POLICY=PASSIVE`);
- `spin 10k`: torch's default threads, OpenMP threads spin 10,000 rounds before they sleep
  (`GOMP_SPINCOUNT`, a middle way between spinning and passive);
- `1 thread`: the policy with one thread (what a load-average rule would pick under load);
- `1 spin`: one thread with spinning OpenMP (`OMP_NUM_THREADS=1`).

The script prints the whole training time and the median epoch time (epochs after the first)
for every variant and load, and each loaded/idle ratio. A run that exceeds `--limit` seconds is
stopped and reported from the epochs it finished.

    python benchmarks/bench_threads.py [--epochs 4] [--loads idle,2busy,numpy,2torch]
        [--variants "before,policy,spin 10k,1 thread,1 spin"]
    python benchmarks/bench_threads.py --demo --loads idle,2busy,numpy   # whole `cvtool demo`
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
VARIANTS = {  # name: (threads, OpenMP environment); None threads: the variant's default
    "before": (None, {}),
    "policy": (None, None),  # what `cvtool` sets up: `prepare_runtime()`, `set_threads(None)`
    "spin 1k": (None, {"GOMP_SPINCOUNT": "1000"}),
    "spin 10k": (None, {"GOMP_SPINCOUNT": "10000"}),
    "spin 100k": (None, {"GOMP_SPINCOUNT": "100000"}),
    "1 thread": (1, None),
    "1 spin": (1, {}),
}
LOADS = {
    "idle": [],
    "2busy": ["while True: pass"] * 2,
    "numpy": [
        "import numpy as np\n"
        "rng = np.random.default_rng(0)\n"
        "a = rng.random((300, 300))\n"
        "while True:\n"
        "    for _ in range(20): a = np.tanh(a @ a.T / 300)\n"
        "    np.linalg.svd(a[:150, :150])\n"
    ],
    "2torch": [
        "import torch\n"
        "x = torch.randn(4, 16, 64, 64)\n"
        "conv = torch.nn.Conv2d(16, 16, 3, padding=1)\n"
        "with torch.no_grad():\n"
        "    while True: conv(x)\n"
    ]
    * 2,
}


def child(args: argparse.Namespace) -> None:
    """Train once with the variant's threading; print a JSON line per epoch and at the end."""
    threads, env = VARIANTS[args.child]
    if env is None:
        from cvtool.core.threads import prepare_runtime

        prepare_runtime()
    else:
        os.environ.update(env)
    import torch

    from cvtool.core.console import quiet
    from cvtool.demo.segment import demo_train_config
    from cvtool.engine.trainer import train

    if env is not None and threads is None:
        threads = torch.get_num_threads()  # torch's own default, left as it is

    def report(epoch: int, row: dict) -> None:
        print(json.dumps({"epoch": epoch, "time_s": row["time_s"]}), flush=True)

    config = demo_train_config(
        Path(args.data), Path(args.out), epochs=args.epochs, width=16, threads=threads
    )
    start = time.perf_counter()
    with quiet():
        train(config, callbacks=[report])
    print(json.dumps({"total_s": time.perf_counter() - start}), flush=True)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "KMP_", "GOMP_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parents[1]), env.get("PYTHONPATH", "")])
    return env


def measure(variant: str, load: str, data: Path, out: Path, args: argparse.Namespace) -> dict:
    """Start the load, train once in a child process, stop the load; epoch and total times."""
    loads = [subprocess.Popen([sys.executable, "-c", code], env=_env()) for code in LOADS[load]]
    try:
        time.sleep(1.0 if loads else 0.0)  # let the load processes start
        cmd = [sys.executable, str(HERE), "--child", variant, "--data", str(data)]
        cmd += ["--out", str(out), "--epochs", str(args.epochs)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=_env())
        epochs: list[float] = []
        total = None
        start = time.perf_counter()
        try:
            while (left := args.limit - (time.perf_counter() - start)) > 0:
                if not select.select([proc.stdout], [], [], left)[0]:
                    break  # over the limit
                line = proc.stdout.readline()  # type: ignore[union-attr]
                if not line:
                    break  # finished
                row = json.loads(line)
                if "total_s" in row:
                    total = row["total_s"]
                else:
                    epochs.append(row["time_s"])
        finally:
            proc.kill()
            proc.wait()
        elapsed = time.perf_counter() - start
    finally:
        for p in loads:
            p.kill()
            p.wait()
    steady = epochs[1:] or epochs
    return {
        "total": total,
        "elapsed": elapsed,
        "epochs": len(epochs),
        "epoch": statistics.median(steady) if steady else float("nan"),
    }


def whole_demo(loads: list[str], tmp: Path) -> None:
    """`cvtool demo` end to end (its default 20 epochs) under each load, with the policy."""
    times = {}
    for load in loads:
        procs = [subprocess.Popen([sys.executable, "-c", c], env=_env()) for c in LOADS[load]]
        try:
            time.sleep(1.0 if procs else 0.0)
            start = time.perf_counter()
            cmd = [sys.executable, "-m", "cvtool", "demo", "--out", str(tmp / "demo")]
            subprocess.run(cmd, env=_env(), check=True, capture_output=True)
            times[load] = time.perf_counter() - start
        finally:
            for p in procs:
                p.kill()
                p.wait()
        ratio = times[load] / times[loads[0]]
        print(f"  cvtool demo, {load:7s}: {times[load]:6.1f} s  ({ratio:.2f} x {loads[0]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--loads", default="idle,2busy,numpy")
    parser.add_argument("--variants", default="before,policy,1 thread")
    parser.add_argument("--limit", type=float, default=90.0, help="seconds per training run")
    parser.add_argument("--demo", action="store_true", help="time the whole `cvtool demo`")
    parser.add_argument("--child", choices=list(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the load processes too
    if args.child:
        child(args)
        return

    from cvtool.core.threads import usable_cores
    from cvtool.synthetic.shapes import prepare_demo_dataset

    loads = args.loads.split(",")
    variants = args.variants.split(",")
    if args.demo:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"whole demo, {usable_cores()} usable cores, load {os.getloadavg()[0]:.2f}")
            whole_demo(loads, Path(tmp))
        return
    with tempfile.TemporaryDirectory() as tmp:
        data, _ = prepare_demo_dataset(Path(tmp), num_images=96, seed=0, workers=1)
        print(
            f"demo U-Net training, {args.epochs} epochs, {usable_cores()} usable cores, "
            f"load average at start {os.getloadavg()[0]:.2f}"
        )
        results: dict[tuple[str, str], dict] = {}
        for load in loads:  # each load once for every variant, back to back
            for variant in variants:
                r = measure(variant, load, data, Path(tmp) / "run", args)
                results[variant, load] = r
                total = f"{r['total']:7.1f} s" if r["total"] else f"> {r['elapsed']:5.0f} s"
                print(
                    f"  {load:7s} {variant:9s} total {total}  epoch {r['epoch']:6.2f} s  "
                    f"({r['epochs']} epochs)",
                    flush=True,
                )
        print("\nloaded / idle (total, epoch):")
        for variant in variants:
            idle = results.get((variant, "idle"))
            if not idle:
                continue
            cells = []
            for load in loads[1:]:
                r = results[variant, load]
                total = f"{r['total'] / idle['total']:5.2f}" if r["total"] else "  >  "
                cells.append(f"{load} {total} / {r['epoch'] / idle['epoch']:5.2f}")
            print(f"  {variant:9s} " + "   ".join(cells))
        if ("before", "idle") in results and ("policy", "idle") in results:
            before, policy = results["before", "idle"], results["policy", "idle"]
            print(
                f"\nidle, policy / before: total {policy['total'] / before['total']:.3f}, "
                f"epoch {policy['epoch'] / before['epoch']:.3f}"
            )


if __name__ == "__main__":
    main()
