"""`import cvtool`: fast, lazy, and every stage function documented with a `progress` switch."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

import cvtool

REPO_ROOT = Path(__file__).resolve().parents[2]

STAGES = [name for name in cvtool.__all__ if name not in ("CvtoolError", "ParameterError")]


def test_import_loads_no_heavy_library() -> None:
    code = (
        "import cvtool, sys; "
        "heavy = [m for m in ('torch', 'ultralytics', 'trackeval') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_exports() -> None:
    assert isinstance(cvtool.__version__, str)
    assert issubclass(cvtool.ParameterError, cvtool.CvtoolError)
    assert set(STAGES) >= {
        "prepare_coco", "prepare_camvid", "prepare_voc", "prepare_folder", "dataset_stats",
        "train", "evaluate", "evaluate_predictions", "merge_evaluations", "compare",
        "detect_objects", "evaluate_detections", "track_objects", "evaluate_tracking",
    }  # fmt: skip
    assert set(cvtool.__all__) <= set(dir(cvtool))
    with pytest.raises(AttributeError, match="no_such_stage"):
        cvtool.no_such_stage  # noqa: B018


@pytest.mark.parametrize("name", STAGES)
def test_stage_is_documented_and_quiet_by_default(name: str) -> None:
    function = getattr(cvtool, name)
    assert inspect.isfunction(function)
    doc = inspect.getdoc(function) or ""
    assert "Args:" in doc and "Returns:" in doc
    progress = inspect.signature(function).parameters["progress"]
    assert progress.default is False and progress.kind is inspect.Parameter.KEYWORD_ONLY
