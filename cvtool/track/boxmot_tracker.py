"""boxmot's motion-only trackers (OC-SORT, BoT-SORT, BoostTrack, ...) behind cvtool's tracker
interface: `update(boxes, scores, frame)` -> rows `id, x, y, w, h, score`.

boxmot is an optional extra, imported on first use. Its trackers always run here with
`use_embeddings=False`, so no ReID weights are loaded (or downloaded). They take the frame as a
BGR image: the camera-motion compensation of BoT-SORT, BoostTrack, OccluBoost, Deep OC-SORT and
Hybrid-SORT estimates the camera's motion from consecutive frames, and SFSORT reads the frame
size. boxmot 25 numbers tracks from 0; ids are renumbered 1, 2, ... in order of first
appearance, as MOTChallenge files need, and restart with every sequence (a fresh tracker).
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import fields
from typing import Any

import numpy as np

from cvtool.core.boxes import xywh_to_xyxy, xyxy_to_tlwh
from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.track.boxmot_config import BoxmotConfig

BOXMOT_MAJOR = 25  # the constructor parameters mirrored in cvtool.track.boxmot_config
INSTALL_HINT = (
    "install the extra: pip install 'cvtool[boxmot]'; in an environment whose opencv-python or "
    "pandas is newer than boxmot's pins, pip install --no-deps 'boxmot>=25,<26' is enough for "
    "these trackers (see docs/track.md)"
)


def import_boxmot(tracker: str) -> Any:
    """The boxmot module; a clear error when it is missing or of another major version."""
    try:
        import boxmot
    except ImportError:
        raise CvtoolError(
            f"the {tracker} tracker needs the boxmot package, which is not installed",
            INSTALL_HINT,
            param="tracker",
        ) from None
    major = int(str(boxmot.__version__).split(".")[0])
    if major != BOXMOT_MAJOR:
        raise CvtoolError(
            f"boxmot {boxmot.__version__} is installed; the {tracker} tracker is written for "
            f"boxmot {BOXMOT_MAJOR}.x",
            INSTALL_HINT,
            param="tracker",
        )
    return boxmot


def boxmot_kwargs(config: BoxmotConfig) -> dict[str, Any]:
    """`config` as keyword arguments of the boxmot class, in boxmot's parameter names."""
    names = type(config).BOXMOT_NAMES
    return {
        names.get(f.name, f.name): getattr(config, f.name)
        for f in fields(config)
        if f.name != "min_det_score"
    }


class BoxmotTracker:
    """One boxmot tracker (registered as `name`) for one sequence."""

    def __init__(self, name: str, config: BoxmotConfig, frame_rate: float = 30.0) -> None:
        class_name = config.BOXMOT_CLASS
        tracker_class = getattr(import_boxmot(name), class_name)
        # Importing a tracker sets boxmot's logger to INFO: it would log every tracker's
        # settings, and a WARNING each frame camera-motion compensation finds no motion (blank
        # frames).
        logging.getLogger("boxmot").setLevel(logging.ERROR)
        params = inspect.signature(tracker_class.__init__).parameters
        kwargs = boxmot_kwargs(config)
        if "use_embeddings" in params:
            kwargs["use_embeddings"] = False
        if "frame_rate" in params:  # scales `track_buffer`, given for 30 fps
            kwargs["frame_rate"] = max(1, round(frame_rate))
        try:
            self._tracker = tracker_class(**kwargs)
        except (TypeError, ValueError) as e:
            raise ParameterError(
                f"boxmot's {class_name} refuses these settings: {e}", name
            ) from None
        self.name = name
        self._ids: dict[int, int] = {}

    def update(
        self, boxes: np.ndarray, scores: np.ndarray, frame: np.ndarray | None = None
    ) -> np.ndarray:
        """(N, 4) `x, y, w, h`, (N,) scores in [0, 1] and the frame (H, W, 3 BGR uint8) ->
        (M, 6) rows `id, x, y, w, h, score`. Boxes without area are left out (boxmot refuses
        them)."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        if scores.size and (scores.min() < 0 or scores.max() > 1):
            raise CvtoolError(
                f"the {self.name} tracker needs detection scores in [0, 1]; got scores from "
                f"{scores.min():g} to {scores.max():g}",
                "rescale the detection scores, or track with iou or bytetrack",
            )
        keep = (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
        dets = np.column_stack([xywh_to_xyxy(boxes[keep]), scores[keep], np.zeros(int(keep.sum()))])
        out = np.asarray(self._tracker.update(dets, frame), dtype=np.float64)
        if len(out) == 0:
            return np.empty((0, 6))
        ids = [self._ids.setdefault(int(i), len(self._ids) + 1) for i in out[:, 4]]
        return np.column_stack([ids, xyxy_to_tlwh(out[:, :4]), out[:, 5]])
