"""The predict and export legs of `cvtool demo`: the demo U-Net on newly generated images, and
its ONNX export with the parity check (skipped with a note when onnxruntime is missing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from cvtool.core.artifacts import atomic_path
from cvtool.core.console import note
from cvtool.synthetic.shapes import synthesize_shapes


@dataclass
class PredictDemo:
    """The prediction dir, the pixel accuracy of its masks on the generated images, and the
    ONNX file with its parity numbers (None when onnxruntime is missing)."""

    predictions: Path
    pixel_accuracy: float
    onnx: Path | None = None
    numbers: dict[str, float] = field(default_factory=dict)


def _write_images(root: Path, count: int, size: int, seed: int) -> dict[str, np.ndarray]:
    """Generated shape images the model has never seen; returns their label maps by stem."""
    truths = {}
    for i, sample in enumerate(synthesize_shapes(count, size, seed)):
        with atomic_path(root / f"new_{i}.png") as tmp:
            Image.fromarray(sample.image).save(tmp, format="PNG")
        truths[f"new_{i}"] = sample.truth
    return truths


def _accuracy(masks: Path, truths: dict[str, np.ndarray]) -> float:
    hits = total = 0
    for stem, truth in truths.items():
        pred = np.asarray(Image.open(masks / f"{stem}.png"))
        labelled = truth != 255
        hits += int((pred[labelled] == truth[labelled]).sum())
        total += int(labelled.sum())
    return hits / max(total, 1)


def predict_demo(run_dir: Path, out: Path, seed: int = 0, count: int = 4) -> PredictDemo:
    """Predict `count` new 160x160 images with the run, export it to ONNX and predict again."""
    from cvtool.api.export import export
    from cvtool.api.predict import predict
    from cvtool.deploy.onnx import import_onnx

    truths = _write_images(out / "images", count, 160, seed + 1000)
    common = {"device": "cpu", "workers": 1, "overwrite": True, "progress": True}
    result = predict(run_dir, out / "images", out / "unet", confidence=True, **common)
    demo = PredictDemo(result.path, _accuracy(result.path / "masks", truths))
    demo.numbers = {"new images": result.images, "pixel accuracy": demo.pixel_accuracy}
    try:
        import_onnx()
    except Exception as e:  # the export extra is not installed
        note(f"export: skipped ({getattr(e, 'message', e)}; pip install 'cvtool[export]')")
        return demo
    exported = export(run_dir, "onnx", out / "unet.onnx", overwrite=True, progress=True)
    onnx = predict(exported.path, out / "images", out / "unet-onnx", **common)
    same = [
        np.mean(
            np.asarray(Image.open(onnx.path / "masks" / f"{stem}.png"))
            == np.asarray(Image.open(result.path / "masks" / f"{stem}.png"))
        )
        for stem in truths
    ]
    demo.onnx = exported.path
    demo.numbers |= {
        "ONNX max |logit diff|": exported.max_abs_diff,
        "ONNX mask agreement": float(np.mean(same)),
    }
    return demo
