"""`demo` killed at its file operations, with each leg replaced by a tiny staged writer (the
legs' own stages have their sweeps): every leg's folder and the marker are the old or the new
version, and a killed demo is run again without `--overwrite`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from faults import sweep

from cvtool.core.artifacts import atomic_write_text, read_json, staged_output_dir
from cvtool.demo import pipeline

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    pytest.mark.usefixtures("one_thread", "quick_figures"),
]


def _demo(out: Path, version: str) -> None:
    def leg(name: str):
        def write(opts: pipeline.DemoOptions, state: dict) -> pipeline.DemoStep:
            with staged_output_dir(opts.out / name, overwrite=True) as stage:
                atomic_write_text(stage / "result.txt", f"{name} {version}")
            return pipeline.DemoStep(name, version, opts.out / name)

        return write

    legs = pipeline.LEGS
    pipeline.LEGS = tuple((name, leg(name)) for name, _ in legs)
    try:
        pipeline.run_demo(pipeline.DemoOptions(out, threads=1))
    finally:
        pipeline.LEGS = legs


def test_demo(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    out = tmp_path / "demo"
    _demo(out, "old")

    def marker(path: Path) -> None:
        """Written first (the folders a re-run may replace), then with the steps at the end."""
        written = read_json(path, "demo marker")
        assert set(written["outputs"]) == set(pipeline.DEMO_OUTPUTS)
        steps = written.get("steps", [])
        assert [s["produced"] for s in steps] in ([], ["new"] * len(pipeline.DEMO_OUTPUTS))

    def leg(path: Path) -> None:
        assert (path / "result.txt").read_text() == f"{path.name} new"

    artifacts = {out / name: leg for name in pipeline.DEMO_OUTPUTS}
    sweep(
        "demo",
        {**artifacts, out / pipeline.DEMO_MARKER: marker},
        lambda: _demo(out, "new"),
        tmp_path,
    )
