"""The demo leg: generated shapes, prepared, a convnet trained and evaluated."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cvtool.demo.classify import run_classification_demo
from cvtool.synthetic.shapes import draw_shape, write_shape_folder


def test_shape_folder_is_deterministic(tmp_path: Path) -> None:
    a = write_shape_folder(tmp_path / "a", per_class=2, size=24, seed=3)
    b = write_shape_folder(tmp_path / "b", per_class=2, size=24, seed=3)
    files = sorted(p.relative_to(a) for p in a.rglob("*.png"))
    assert len(files) == 8 and {f.parts[0] for f in files} == {
        "circle",
        "square",
        "triangle",
        "star",
    }
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes()
    image = draw_shape(np.random.default_rng(0), "star", 24)
    assert image.shape == (24, 24, 3) and image.dtype == np.uint8


@pytest.mark.slow
def test_demo_learns_the_shapes(tmp_path: Path) -> None:
    result = run_classification_demo(tmp_path / "demo", epochs=6)
    assert result.eval_dir == tmp_path / "demo" / "convnet" / "eval-test"
    metrics = json.loads((result.eval_dir / "metrics.json").read_text())
    assert metrics["headline"]["accuracy"] == result.accuracy
    assert result.accuracy >= 0.75  # 4 classes: chance is 0.25
    assert 0 <= result.ece <= 1 and 0 <= result.macro_f1 <= 1
    assert (result.eval_dir / "plots" / "tsne_2d.png").is_file()
    assert set(result.summary()) == {"eval_dir", "accuracy", "macro_f1", "ece"}
