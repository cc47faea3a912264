"""What applying a trained model needs besides its weights, stored inside an exported file.

ONNX keeps it as `metadata_props` (string keys and values) and TorchScript as the extra file
`cvtool.json`; both hold the same flat dict of strings, so a file alone is enough to preprocess
images, name the classes and colour the masks:

>>> ModelInfo.from_metadata(ModelInfo(...).to_metadata(), "model.onnx")   # round trip
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cvtool import __version__
from cvtool.core.artifacts import ClassInfo
from cvtool.core.errors import CvtoolError
from cvtool.core.transforms import Preprocess

FORMAT = "cvtool-export"
FORMAT_VERSION = 1
TASKS = ("segmentation", "classification")
# metadata keys whose values are JSON (the others are plain strings)
_JSON_KEYS = ("format_version", "classes", "preprocess", "ignore_index", "input_size",
              "calibration")  # fmt: skip


@dataclass
class ModelInfo:
    """The task, registry model name, classes, preprocessing and ignore index of a model;
    `input_size` is the fixed `(H, W)` of an exported graph (None: any size); `calibration`
    is the run manifest's post-hoc calibration, when it has one; `source` is the checkpoint an
    export came from."""

    task: str
    model: str
    classes: list[ClassInfo]
    preprocess: Preprocess
    ignore_index: int = 255
    input_size: tuple[int, int] | None = None
    calibration: dict[str, Any] | None = None
    source: str = ""

    @property
    def class_names(self) -> list[str]:
        return [c.name for c in self.classes]

    def to_metadata(self) -> dict[str, str]:
        """A flat `{key: string}` dict (what ONNX metadata_props can hold)."""
        values: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "task": self.task,
            "model": self.model,
            "classes": [{"id": c.id, "name": c.name, "color": list(c.color)} for c in self.classes],
            "preprocess": self.preprocess.to_dict(),
            "ignore_index": self.ignore_index,
            "input_size": None if self.input_size is None else list(self.input_size),
            "calibration": self.calibration,
            "source": self.source,
            "cvtool_version": __version__,
        }
        return {
            f"cvtool.{k}": json.dumps(v) if k in _JSON_KEYS else str(v) for k, v in values.items()
        }

    @classmethod
    def from_metadata(cls, metadata: dict[str, str], where: str) -> ModelInfo:
        """Parse `to_metadata()` output read from the file `where` (named in errors)."""
        values = {k.removeprefix("cvtool."): v for k, v in metadata.items()}
        if values.get("format") != FORMAT:
            raise CvtoolError(
                f"{where} has no cvtool metadata (task, classes, preprocessing)",
                "export the model with `cvtool export`, which stores them in the file",
                param="model",
            )
        try:
            parsed = {k: json.loads(values[k]) if k in _JSON_KEYS else values[k] for k in values}
            if parsed["format_version"] != FORMAT_VERSION:
                raise CvtoolError(
                    f"{where} has cvtool metadata version {parsed['format_version']}; this "
                    f"cvtool reads version {FORMAT_VERSION}",
                    "export the model again with this version of cvtool",
                    param="model",
                )
            size = parsed.get("input_size")
            info = cls(
                task=parsed["task"],
                model=parsed["model"],
                classes=[ClassInfo.from_dict(c, where) for c in parsed["classes"]],
                preprocess=Preprocess.from_dict(parsed["preprocess"]),
                ignore_index=int(parsed["ignore_index"]),
                input_size=None if size is None else (int(size[0]), int(size[1])),
                calibration=parsed.get("calibration"),
                source=str(parsed.get("source", "")),
            )
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise CvtoolError(
                f"{where} has malformed cvtool metadata ({type(e).__name__}: {e})",
                "export the model again with `cvtool export`",
                param="model",
            ) from None
        if info.task not in TASKS or not info.classes:
            raise CvtoolError(
                f"{where}: metadata task {info.task!r} with {len(info.classes)} classes is not "
                f"a model cvtool can apply ({' or '.join(TASKS)}, one class or more)",
                param="model",
            )
        return info

    def check_outputs(self, channels: int | None, where: str) -> None:
        """Refuse a model whose logits have another number of classes than its metadata."""
        if channels is not None and channels != len(self.classes):
            raise CvtoolError(
                f"{where}: its metadata names {len(self.classes)} classes "
                f"({', '.join(self.class_names)}) but the model outputs {channels} logits",
                "the metadata does not belong to this model: export it again with `cvtool export`",
                param="model",
            )
