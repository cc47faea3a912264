"""Detections from an ultralytics YOLO model on each sequence's `img1/`, in MOT det format."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cvtool.core.artifacts import atomic_write_text
from cvtool.core.console import track
from cvtool.core.errors import CvtoolError
from cvtool.track.mot import SeqInfo, format_results

PERSON = "person"


def detect_sequences(
    seqs: list[SeqInfo],
    weights: str,
    out: Path,
    conf: float = 0.1,
    imgsz: int = 640,
    device: str | None = None,
) -> Path:
    """Run the model on every frame in `img1/`; writes `out/<sequence>.txt` (person boxes).

    `weights`: a local `.pt` file, or a model `.yaml` (random weights); nothing is downloaded.
    """
    from cvtool.detect.yolo import load_yolo

    model = load_yolo(weights)
    names = model.names  # type: ignore[attr-defined]
    person = [i for i, n in names.items() if n == PERSON]
    for seq in seqs:
        frames = seq.available_frames()
        if not frames:
            raise CvtoolError(f"{seq.path / seq.im_dir} holds no frames to detect on")
        rows = []
        for t in track(frames, f"detecting {seq.name}"):
            result = model.predict(  # type: ignore[attr-defined]
                str(seq.frame_path(t)),
                conf=conf,
                imgsz=imgsz,
                device=device,
                classes=person or None,
                verbose=False,
            )[0]
            boxes = result.boxes.cpu().numpy()
            xyxy = boxes.xyxy.reshape(-1, 4)
            n = len(xyxy)
            rows.append(
                np.column_stack(
                    [
                        np.full(n, t),
                        -np.ones(n),
                        xyxy[:, :2],
                        xyxy[:, 2:] - xyxy[:, :2],
                        boxes.conf,
                        -np.ones((n, 3)),
                    ]
                )
            )
        atomic_write_text(Path(out) / f"{seq.name}.txt", format_results(np.concatenate(rows)))
    return Path(out)
