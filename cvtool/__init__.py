"""cvtool: the computer-vision experiment loop, as a command-line pipeline and a Python API.

Every stage of the command line is a function here, taking what the command line takes
(sizes as `"180x240"` or `(180, 240)`, class lists as `"person,car"` or `["person", "car"]`,
paths as `str` or `Path`), printing nothing unless called with `progress=True`, and returning
a small result object with the path it wrote and the stage's headline numbers:

>>> import cvtool
>>> data = cvtool.prepare_coco("coco.json", "images", "person,car", "data/c2")  # doctest: +SKIP
>>> run = cvtool.train("unet", data.path, epochs=2, size="128x128")  # doctest: +SKIP
>>> cvtool.evaluate(run.path).headline["miou"]  # doctest: +SKIP

A parameter value that cannot work raises `CvtoolError` (`ParameterError` for a value that is
wrong whatever the data) with `err.param` naming the parameter. See docs/python.md.

The stage functions are imported on first use, so `import cvtool` stays fast (no torch).
"""

from __future__ import annotations

import importlib
from typing import Any

from cvtool.core.errors import CvtoolError, ParameterError

__version__ = "0.1.0"

# stage function -> the cvtool.api module that defines it
_STAGES = {
    "prepare_coco": "prepare",
    "prepare_camvid": "prepare",
    "prepare_voc": "prepare",
    "prepare_folder": "prepare",
    "dataset_stats": "prepare",
    "train": "train",
    "evaluate": "evaluate",
    "evaluate_predictions": "evaluate",
    "merge_evaluations": "evaluate",
    "compare": "compare",
    "calibrate": "calibrate",
    "calibrate_detections": "calibrate",
    "apply_detection_calibration": "calibrate",
    "detect_objects": "detect",
    "evaluate_detections": "detect",
    "track_objects": "track",
    "track_video": "track",
    "evaluate_tracking": "track",
    "describe_sequences": "track",
    "download_dataset": "download",
    "download_weights": "download",
    "predict": "predict",
    "export": "export",
}

__all__ = ["CvtoolError", "ParameterError", *_STAGES]


def __getattr__(name: str) -> Any:
    module = _STAGES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    function = getattr(importlib.import_module(f"{__name__}.api.{module}"), name)
    globals()[name] = function  # later lookups skip __getattr__
    return function


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
