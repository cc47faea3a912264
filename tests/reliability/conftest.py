"""Fixtures of the reliability tests."""

from __future__ import annotations

import importlib.util
import io
from unittest.mock import MagicMock, Mock

import numpy as np
import pytest
from PIL import Image


@pytest.fixture
def one_thread(monkeypatch: pytest.MonkeyPatch):
    """Stages run in this process (to write an old version, and to import what the forked
    writers need once) with one torch thread, as the forked writers do: no OpenMP team exists
    for a fork to copy (see `faults.run_forked`)."""
    import torch

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def quick_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-in figures: every call on them is accepted, and saving one writes a 1x1 PNG. A
    plot's file operations are those of any PNG (`cvtool.core.figures.save_figure`); building
    and drawing real figures is most of a small stage's time (their tests are elsewhere)."""
    from cvtool.core.figures import pyplot

    plt = pyplot()
    png = io.BytesIO()
    Image.new("RGB", (1, 1)).save(png, format="PNG")

    def figure(*args, **kwargs) -> MagicMock:
        def savefig(fname, *args, **kwargs) -> None:
            with open(fname, "wb") as f:
                f.write(png.getvalue())

        fig = MagicMock()
        fig.savefig.side_effect = savefig
        return fig

    def subplots(nrows: int = 1, ncols: int = 1, *, squeeze: bool = True, **kwargs):
        axes = np.empty((nrows, ncols), dtype=object)
        for index in np.ndindex(axes.shape):
            axes[index] = MagicMock()
        if squeeze:
            axes = axes.squeeze()
            axes = axes.item() if axes.ndim == 0 else axes
        return figure(), axes

    close = plt.close

    def close_figure(fig: object = None) -> None:
        if not isinstance(fig, Mock):
            close(fig)

    monkeypatch.setattr(plt, "figure", figure)
    monkeypatch.setattr(plt, "subplots", subplots)
    monkeypatch.setattr(plt, "close", close_figure)


@pytest.fixture
def yolo_once(monkeypatch: pytest.MonkeyPatch, one_thread) -> None:
    """`load_yolo` builds the random-weight YOLOv8n once for the test, not in every writer."""
    if importlib.util.find_spec("ultralytics") is None:  # a bare import would patch PIL
        pytest.skip("needs ultralytics")
    from cvtool.detect import yolo
    from cvtool.track import video

    model = yolo.load_yolo("yolov8n.yaml")

    def cached(weights: object) -> object:
        assert str(weights) == "yolov8n.yaml"
        return model

    monkeypatch.setattr(yolo, "load_yolo", cached)
    monkeypatch.setattr(video, "load_yolo", cached)
