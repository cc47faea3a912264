"""ByteTrack through ultralytics' `BYTETracker`, fed plain (N, 4) boxes and scores.

ultralytics wants a results-like object exposing `xywh` (centre), `conf`, `cls` and boolean
indexing; `_Detections` is that object. Its lost-track buffer is counted in frames, so it is
scaled by the sequence frame rate (`track_buffer` is given for 30 fps, as in ByteTrack).
One tracker per sequence: ids restart at 1.
"""

from __future__ import annotations

from dataclasses import asdict
from types import SimpleNamespace

import numpy as np

from cvtool.core.boxes import tlwh_to_xywh_center, xyxy_to_tlwh
from cvtool.track.config import ByteTrackConfig


class _Detections:
    """The slice of ultralytics' `Boxes` interface that BYTETracker reads."""

    def __init__(self, xywh: np.ndarray, conf: np.ndarray, cls: np.ndarray) -> None:
        self.xywh, self.conf, self.cls = xywh, conf, cls

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index: np.ndarray) -> _Detections:
        return _Detections(self.xywh[index], self.conf[index], self.cls[index])

    @property
    def xyxy(self) -> np.ndarray:
        out = self.xywh.copy()
        out[:, :2] -= out[:, 2:] / 2
        out[:, 2:] += out[:, :2]
        return out


class ByteTracker:
    """`update(boxes, scores)` per frame -> (M, 6) rows `id, x, y, w, h, score`."""

    def __init__(self, config: ByteTrackConfig | None = None, frame_rate: float = 30.0) -> None:
        from cvtool.core.ultralytics_env import import_ultralytics

        import_ultralytics()
        from ultralytics.trackers.byte_tracker import BYTETracker

        self.config = config or ByteTrackConfig()
        args = SimpleNamespace(**asdict(self.config))
        args.track_buffer = max(1, round(frame_rate / 30.0 * self.config.track_buffer))
        self._tracker = BYTETracker(args)

    def update(self, boxes: np.ndarray, scores: np.ndarray) -> np.ndarray:
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        dets = _Detections(tlwh_to_xywh_center(boxes), scores, np.zeros(len(scores)))
        out = self._tracker.update(dets)
        if len(out) == 0:
            return np.empty((0, 6))
        out = np.asarray(out, dtype=np.float64)
        if self.config.detection_boxes:
            tlwh = boxes[out[:, 7].astype(np.int64)]
        else:
            tlwh = xyxy_to_tlwh(out[:, :4])
        return np.column_stack([out[:, 4], tlwh, out[:, 5]])
