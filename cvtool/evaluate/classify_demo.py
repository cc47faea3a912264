"""The classification leg of `cvtool demo`: generated shapes -> prepare -> train -> evaluate.

`write_shape_folder` draws one shape (circle, square, triangle or star, in its class's base
colour with jitter) per image on a noisy background, into `ROOT/<class>/<n>.png`;
`run_classification_demo` prepares it with stratified splits, trains the small convnet for a
few epochs on the CPU and evaluates it on the test split — a few seconds on 2 cores.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from cvtool.data.synthetic import BASE_COLORS, SHAPES

HEADLINE = ("accuracy", "macro_f1", "ece")


def _polygon(shape: str, cx: float, cy: float, r: float, angle: float) -> list[tuple]:
    if shape == "circle":
        t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        radii = np.full_like(t, r)
    else:
        corners = {"square": 4, "triangle": 3, "star": 10}[shape]
        t = angle + np.arange(corners) * 2 * np.pi / corners
        radii = np.where((np.arange(corners) % 2 == 1) & (shape == "star"), 0.45 * r, r)
    xs, ys = (cx + radii * np.cos(t)).tolist(), (cy + radii * np.sin(t)).tolist()
    return list(zip(xs, ys, strict=True))


def draw_shape(rng: np.random.Generator, shape: str, size: int) -> np.ndarray:
    """One `(size, size, 3)` uint8 image with a single shape of class `shape`."""
    background = rng.uniform(60, 190, 3) + rng.normal(0, 14, (size, size, 3))
    image = Image.fromarray(np.clip(background, 0, 255).astype(np.uint8))
    r = rng.uniform(0.22, 0.38) * size
    cx, cy = rng.uniform(r, size - r, 2)
    color = np.clip(BASE_COLORS[SHAPES.index(shape)] + rng.uniform(-35, 35, 3), 0, 255)
    polygon = _polygon(shape, cx, cy, r, rng.uniform(0, np.pi))
    ImageDraw.Draw(image).polygon(polygon, fill=tuple(int(c) for c in color))
    return np.asarray(image)


def write_shape_folder(root: Path, per_class: int = 24, size: int = 32, seed: int = 0) -> Path:
    """An image-folder classification set `root/<shape>/<n>.png` (same seed, same images)."""
    rng = np.random.default_rng(seed)
    for shape in SHAPES:
        (root / shape).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(draw_shape(rng, shape, size)).save(root / shape / f"{i:03d}.png")
    return root


@dataclass
class ClassifyDemoResult:
    """The demo's directories and the headline test metrics."""

    data_dir: Path
    run_dir: Path
    eval_dir: Path
    accuracy: float
    macro_f1: float
    ece: float

    def summary(self) -> dict[str, object]:
        return {
            "eval_dir": str(self.eval_dir),
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "ece": self.ece,
        }


def run_classification_demo(
    out: Path, *, epochs: int = 8, per_class: int = 24, size: int = 32, seed: int = 0
) -> ClassifyDemoResult:
    """Generate shapes in `out/shapes`, prepare `out/data`, train `out/convnet`, evaluate it on
    the test split (`out/convnet/eval-test`). Everything under `out` is replaced."""
    from cvtool.data.folders import prepare_folder
    from cvtool.engine.config import TrainConfig
    from cvtool.engine.trainer import train
    from cvtool.evaluate.model import evaluate_checkpoint
    from cvtool.evaluate.runner import EvalSettings

    out = Path(out)
    shutil.rmtree(out / "shapes", ignore_errors=True)
    images = write_shape_folder(out / "shapes", per_class, size, seed)
    prepared = prepare_folder(
        images, out / "data", val=0.25, test=0.25, seed=seed, workers=1, overwrite=True
    )
    data = prepared.path
    config = TrainConfig(
        model="convnet",
        data=data,
        out=out / "convnet",
        epochs=epochs,
        batch_size=8,
        lr=3e-3,
        size=(size, size),
        seed=seed,
        device="cpu",
        workers=0,
        overwrite=True,
    )
    run_dir = train(config).run_dir
    settings = EvalSettings(max_failures=8, workers=1, overwrite=True, tsne_max=48)
    outcome = evaluate_checkpoint(run_dir, split="test", settings=settings, device="cpu")
    accuracy, macro_f1, ece = (float(outcome.headline[k] or "nan") for k in HEADLINE)
    return ClassifyDemoResult(data, run_dir, outcome.path, accuracy, macro_f1, ece)
