"""Training throughput: the cvtool engine against a bare PyTorch loop, measured side by side.

Both train the same U-Net on the same prepared dataset (the synthetic demo shapes), with the
same transforms, batch size, optimizer (Adam + OneCycle) and loss, and both run a validation
pass every epoch. The engine's time also covers everything it adds: the mask scan at set-up,
metrics, checkpoints, history.csv, plots and run.json (a fixed cost per epoch, reported
separately from the train + val passes). On CUDA it also compares AMP + channels_last against
fp32.

    python benchmarks/bench_train.py [--epochs 3 --images 48 --size 96 --width 16]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from cvtool.core.transforms import Preprocess, eval_transform, train_transform
from cvtool.engine.config import TrainConfig
from cvtool.engine.registry import build_model
from cvtool.engine.trainer import train
from cvtool.segment.dataset import SegmentationDataset
from cvtool.synthetic.shapes import prepare_demo_dataset


def bare_loop(data: Path, args: argparse.Namespace, device: str) -> float:
    """The obvious hand-written loop; returns seconds for `args.epochs` epochs."""
    torch.manual_seed(0)
    pre = Preprocess(args.size, args.size)
    train_ds = SegmentationDataset(data, "train", train_transform(pre, "none"))
    val_ds = SegmentationDataset(data, "val", eval_transform(**pre.to_dict()))
    loader = torch.utils.data.DataLoader(
        train_ds, batch_size=args.batch_size, shuffle=True, num_workers=args.workers
    )
    val_loader = torch.utils.data.DataLoader(
        val_ds, batch_size=args.batch_size, num_workers=args.workers
    )
    k = train_ds.manifest.num_classes
    model = build_model("unet", k, width=args.width).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=1e-3, total_steps=args.epochs * len(loader)
    )
    criterion = torch.nn.CrossEntropyLoss(ignore_index=255)
    start = time.perf_counter()
    for _ in range(args.epochs):
        model.train()
        for images, masks in loader:
            images, masks = images.to(device), masks.to(device)
            loss = criterion(model(images), masks)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
        model.eval()
        with torch.no_grad():
            for images, masks in val_loader:
                criterion(model(images.to(device)), masks.to(device))
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def engine(
    data: Path, out: Path, args: argparse.Namespace, device: str, amp: bool
) -> tuple[float, float]:
    """Seconds for the whole `train()` call, and for its epochs' train + val passes alone."""
    config = TrainConfig(
        model="unet",
        data=data,
        out=out,
        model_kwargs={"width": args.width},
        epochs=args.epochs,
        batch_size=args.batch_size,
        size=args.size,
        crop=args.size,
        workers=args.workers,
        device=device,
        amp=amp,
        channels_last=amp,
        overwrite=True,
    )
    start = time.perf_counter()
    result = train(config)
    return time.perf_counter() - start, sum(row["time_s"] for row in result.history)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data, _ = prepare_demo_dataset(Path(tmp), num_images=args.images, size=128)
        n = len(SegmentationDataset(data, "train")) * args.epochs
        bare_loop(data, argparse.Namespace(**{**vars(args), "epochs": 1}), "cpu")  # warm-up
        bare, total, loop = [], [], []
        for _ in range(args.repeats):  # interleaved, best of N: the machine is shared
            bare.append(bare_loop(data, args, "cpu"))
            whole, passes = engine(data, Path(tmp) / "run", args, "cpu", amp=False)
            total.append(whole)
            loop.append(passes)
        b, t, p = min(bare), min(total), min(loop)
        print(
            f"CPU, U-Net width {args.width}, {args.size}x{args.size}, {n} training images, "
            f"best of {args.repeats}:"
        )
        print(f"  bare PyTorch loop          : {n / b:7.1f} images/s  ({b:.2f} s)")
        print(f"  engine, train + val passes : {n / p:7.1f} images/s  ({p:.2f} s)")
        print(f"  engine, whole run          : {n / t:7.1f} images/s  ({t:.2f} s)")
        print(f"  throughput ratio engine/bare: passes {b / p:.3f}, whole run {b / t:.3f}")
        if not torch.cuda.is_available():
            print("CUDA not available: AMP + channels_last vs fp32 not measured")
            return
        fp32, _ = engine(data, Path(tmp) / "fp32", args, "cuda", amp=False)
        mixed, _ = engine(data, Path(tmp) / "amp", args, "cuda", amp=True)
        print(f"CUDA ({torch.cuda.get_device_name()}):")
        print(f"  fp32                  : {n / fp32:8.1f} images/s")
        print(f"  AMP + channels_last   : {n / mixed:8.1f} images/s")
        print(f"  AMP / fp32 throughput : {fp32 / mixed:.3f}")


if __name__ == "__main__":
    main()
