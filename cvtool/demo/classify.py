"""The classification leg of `cvtool demo`: generated shapes -> prepare -> train -> evaluate.

`run_classification_demo` draws an image folder of shapes (`cvtool.synthetic.shapes`),
prepares it with stratified splits, trains the small convnet for a
few epochs on the CPU and evaluates it on the test split — a few seconds on 2 cores.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from cvtool.synthetic.shapes import write_shape_folder

HEADLINE = ("accuracy", "macro_f1", "ece")


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
    from cvtool.api.evaluate import evaluate_checkpoint
    from cvtool.core.evaldir import EvalSettings
    from cvtool.engine.config import TrainConfig
    from cvtool.engine.trainer import train
    from cvtool.formats.folders import prepare_folder

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
    values = (outcome.headline[k] for k in HEADLINE)
    accuracy, macro_f1, ece = (float("nan") if v is None else float(v) for v in values)
    return ClassifyDemoResult(data, run_dir, outcome.path, accuracy, macro_f1, ece)
