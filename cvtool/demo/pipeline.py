"""`cvtool demo`: every stage on built-in synthetic data, offline, in a few minutes on a CPU.

Each leg calls the same library functions as the stage's command and writes into its own
folder under the demo directory; the final table says what each stage produced and where.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cvtool.core.artifacts import atomic_write_json, read_json
from cvtool.core.console import console, info, note
from cvtool.core.errors import CvtoolError
from cvtool.core.headline import HEADLINES
from cvtool.core.locks import output_lock
from cvtool.core.outputs import remove_temp_files, visible
from cvtool.core.provenance import provenance

DEMO_MARKER = "demo.json"


@dataclass
class DemoStep:
    stage: str
    produced: str
    path: Path
    seconds: float = 0.0
    numbers: dict[str, Any] = field(default_factory=dict)


@dataclass
class DemoOptions:
    out: Path
    seed: int = 0
    workers: int | None = None
    epochs: int = 20
    weights: Path | None = None  # a YOLO checkpoint to evaluate instead of the simulated one
    threads: int | None = None  # torch's intra-op threads (None: `cvtool.core.threads` policy)


def _previous_outputs(out: Path) -> set[str]:
    """What an earlier demo in `out` wrote, from its marker (none without one)."""
    marker = out / DEMO_MARKER
    if not marker.is_file():
        return set()
    outputs = read_json(marker, "demo marker")
    # A marker without the list comes from a version that wrote the same legs.
    listed = outputs.get("outputs") if isinstance(outputs, dict) else None
    return set(listed) if isinstance(listed, list) else set(DEMO_OUTPUTS)


def _check_out_dir(out: Path, overwrite: bool) -> None:
    """Replace only what an earlier demo wrote; refuse to touch anything else.

    A directory that holds other files is used only with `overwrite`, and then only the
    demo's own folders are added; a folder of the demo's names that it did not write is never
    replaced.
    """
    if out.exists() and not out.is_dir():
        raise CvtoolError(
            f"demo output {out} exists and is not a directory",
            "choose another directory",
            param="out",
        )
    previous = _previous_outputs(out)
    clashes = [n for n in DEMO_OUTPUTS if (out / n).exists() and n not in previous]
    if clashes:
        raise CvtoolError(
            f"{out} holds {', '.join(clashes)}, which `cvtool demo` did not write; the demo "
            "would replace them",
            "choose another directory, or move them away",
            param="out",
        )
    # Hidden names (what a killed writer left) are not files of yours.
    foreign = out.is_dir() and not previous and bool(visible(out))
    if foreign and not overwrite:
        raise CvtoolError(
            f"{out} is not empty and was not written by `cvtool demo`",
            "choose another directory, or pass `overwrite=True` to add the demo's folders "
            f"({', '.join(DEMO_OUTPUTS)}) beside its files, which are left as they are",
            param="out",
        )
    out.mkdir(parents=True, exist_ok=True)
    # The marker comes first, so an interrupted demo can be run again over its own folders.
    atomic_write_json(out / DEMO_MARKER, {"outputs": sorted(previous | set(DEMO_OUTPUTS))})


def _prepare(opts: DemoOptions, state: dict[str, Any]) -> DemoStep:
    from cvtool.synthetic.shapes import prepare_demo_dataset

    dataset, summary = prepare_demo_dataset(
        opts.out / "prepare", num_images=96, seed=opts.seed, workers=opts.workers, overwrite=True
    )
    state["dataset"] = dataset
    splits = summary.get("splits", {})
    return DemoStep(
        "prepare",
        f"COCO shapes -> semantic masks, {sum(splits.values())} images",
        dataset,
        numbers={f"{name} images": count for name, count in splits.items()},
    )


def _train(opts: DemoOptions, state: dict[str, Any]) -> DemoStep:
    from cvtool.demo.segment import train_demo_unet

    result = train_demo_unet(
        state["dataset"],
        opts.out / "train" / "unet",
        epochs=opts.epochs,
        width=16,
        seed=opts.seed,
        threads=opts.threads,
    )
    state["run_dir"] = result.run_dir
    first, best = result.history[0], result.best_value
    return DemoStep(
        "train",
        f"U-Net, {opts.epochs} epochs on the CPU (best epoch {result.best_epoch})",
        result.run_dir,
        numbers={"val mIoU first": first.get("val_miou"), f"best {result.best_metric}": best},
    )


def _calibrate(opts: DemoOptions, state: dict[str, Any]) -> DemoStep:
    from cvtool.api.calibrate import calibrate

    result = calibrate(
        state["run_dir"], split="val", workers=opts.workers, device="cpu", progress=True
    )
    before, after = result.before, result.after
    info(f"calibrate: U-Net ECE on val, raw {before['ece']:.4f} -> calibrated {after['ece']:.4f}")
    return DemoStep(
        "calibrate",
        f"temperature scaling fitted on val, T = {result.parameters['temperature']:.3f}",
        result.path,
        numbers={"val ECE raw": before["ece"], "val ECE calibrated": after["ece"]},
    )


def _evaluate(opts: DemoOptions, state: dict[str, Any]) -> DemoStep:
    from cvtool.api.evaluate import evaluate_checkpoint
    from cvtool.core.evaldir import EvalSettings

    outcome = evaluate_checkpoint(
        state["run_dir"],
        split="test",
        out=opts.out / "evaluate" / "unet-test",
        settings=EvalSettings(max_failures=4, workers=opts.workers, overwrite=True),
        device="cpu",
    )
    state["eval_dir"] = outcome.path
    keys = ("miou", "pixel_accuracy", "ece")
    numbers = HEADLINES["segmentation"].labelled(outcome.headline, keys)
    raw = outcome.metrics["calibration"].get("raw")
    if raw:
        numbers = {**numbers, "ECE raw": raw["ece"]}
        info(
            f"evaluate: U-Net ECE on test, raw {raw['ece']:.4f} -> calibrated "
            f"{outcome.headline['ece']:.4f}"
        )
    return DemoStep(
        "evaluate",
        "calibrated U-Net on the test split: IoU/Dice per class, ECE raw and calibrated, "
        "failure gallery",
        outcome.path,
        numbers=numbers,
    )


def _predict(opts: DemoOptions, state: dict[str, Any]) -> DemoStep:
    from cvtool.demo.predict import predict_demo

    demo = predict_demo(state["run_dir"], opts.out / "predict", seed=opts.seed)
    exported = " -> ONNX with the parity check" if demo.onnx else " (ONNX skipped)"
    return DemoStep(
        "predict", f"U-Net on new images: masks, overlays{exported}", demo.predictions,
        numbers=demo.numbers,
    )  # fmt: skip


def _classify(opts: DemoOptions, state: dict[str, Any]) -> DemoStep:
    from cvtool.demo.classify import HEADLINE, run_classification_demo

    result = run_classification_demo(opts.out / "classify", seed=opts.seed)
    return DemoStep(
        "classify",
        "shape images -> stratified splits -> small CNN -> accuracy, F1, ECE, t-SNE",
        result.eval_dir,
        numbers=HEADLINES["classification"].labelled(result.summary(), HEADLINE),
    )


def _detect(opts: DemoOptions, state: dict[str, Any]) -> DemoStep:
    from cvtool.demo.detect import detect_demo

    raw = opts.out / "prepare" / "raw_shapes"
    result = detect_demo(
        raw / "annotations.json",
        opts.out / "detect",
        images=raw / "images",
        weights=opts.weights,
        seed=opts.seed,
        overwrite=True,
    )
    if opts.weights is None:
        note(
            "detect: no pretrained detector is available offline; evaluating a clearly labelled "
            "simulated baseline (ground truth with seeded damage). Give the weights of a YOLO "
            "model (e.g. yolov8n.pt) to evaluate a real one."
        )
    return DemoStep(
        "detect",
        f"{result.detector}: COCO mAP, TIDE, calibration per scale",
        result.eval_dir,
        numbers=HEADLINES["detection"].labelled(result.headline, ("AP", "AP50")),
    )


def _track(opts: DemoOptions, state: dict[str, Any]) -> DemoStep:
    from cvtool.demo.track import run_track_demo

    result = run_track_demo(opts.out / "track", seed=opts.seed)
    spec = HEADLINES["tracking"]
    numbers = {
        f"{tracker} {label}": float(value)
        for tracker, values in result.metrics.items()
        for label, value in spec.labelled(values, ("HOTA", "MOTA", "IDF1")).items()
    }
    return DemoStep(
        "track", "IoU tracker vs ByteTrack, HOTA/MOTA/IDF1", result.out, numbers=numbers
    )


LEGS: tuple[tuple[str, Callable[[DemoOptions, dict[str, Any]], DemoStep]], ...] = (
    ("prepare", _prepare),
    ("train", _train),
    ("calibrate", _calibrate),
    ("evaluate", _evaluate),
    ("predict", _predict),
    ("classify", _classify),
    ("detect", _detect),
    ("track", _track),
)
# Each leg writes the folder of its name, and nothing else; with the marker, all a demo owns.
DEMO_OUTPUTS = tuple(name for name, _ in LEGS)


def run_demo(opts: DemoOptions, overwrite: bool = False) -> list[DemoStep]:
    """Run every leg in order; returns what each produced. Writes `demo.json` last."""
    from cvtool.core.threads import set_threads

    opts.out = Path(opts.out)
    # One demo per folder (each leg also locks its own); the lock's holder clears what a killed
    # demo left of its marker.
    with output_lock(opts.out):
        remove_temp_files(opts.out / DEMO_MARKER)
        _check_out_dir(opts.out, overwrite)
        set_threads(opts.threads)
        state: dict[str, Any] = {}
        steps: list[DemoStep] = []
        for name, leg in LEGS:
            console.rule(f"[bold]demo: {name}")
            start = time.perf_counter()
            step = leg(opts, state)
            step.seconds = time.perf_counter() - start
            steps.append(step)
        atomic_write_json(
            opts.out / DEMO_MARKER,
            {
                "outputs": list(DEMO_OUTPUTS),
                **provenance("torch", "torchvision"),
                "seed": opts.seed,
                "steps": [
                    {
                        "stage": s.stage,
                        "produced": s.produced,
                        "path": str(s.path),
                        "seconds": round(s.seconds, 2),
                        "numbers": s.numbers,
                    }
                    for s in steps
                ],
            },
        )
    return steps
