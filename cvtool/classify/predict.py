"""Apply a classifier to new images: top-k labels and probabilities per image (or video frame),
`predictions.csv`, and a contact sheet of the first images with their labels.

Images are preprocessed exactly as in validation (the checkpoint's resize, centre crop and
normalisation) and run in batches of equal-size images.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.classify.plots import plot_gallery
from cvtool.core.artifacts import atomic_write_text, csv_text
from cvtool.core.inference import Inference, logits_to_probs, predict_batches
from cvtool.core.transforms import Preprocess, eval_transform

PREDICTIONS_FILE = "predictions.csv"
CONTACT_SHEET = "contact_sheet.png"
SHEET_MAX = 48  # images on the contact sheet
THUMBNAIL = 160  # longer side of a contact-sheet image, pixels


def classify_batches(
    model: Any,
    preprocess: Preprocess,
    samples: Iterable[tuple[Any, np.ndarray]],
    run: Inference,
    calibration: dict[str, Any] | None = None,
) -> Iterator[tuple[list[tuple[Any, np.ndarray]], Any]]:
    """Yield `(samples, probabilities (B, K))` for `(key, (3, H, W) uint8 image)` samples."""
    import torch

    transform = eval_transform(**preprocess.to_dict())

    def tensor(sample: tuple[Any, np.ndarray]) -> Any:
        return transform(torch.from_numpy(sample[1]).to(run.device))

    for group, logits in predict_batches(model, samples, tensor, run):
        yield group, logits_to_probs(logits, calibration)


def _thumbnail(image_chw: np.ndarray) -> np.ndarray:
    from PIL import Image

    picture = Image.fromarray(np.ascontiguousarray(image_chw.transpose(1, 2, 0)))
    picture.thumbnail((THUMBNAIL, THUMBNAIL))
    return np.asarray(picture)


class LabelWriter:
    """Collects the top-k rows (`file`, `frame`, `label_1`, `probability_1`, ...) and the
    contact-sheet thumbnails; `finish` writes `predictions.csv` and `contact_sheet.png`."""

    def __init__(self, out: Path, class_names: Sequence[str], top_k: int, sheet: bool) -> None:
        self.out, self.names, self.sheet = out, list(class_names), sheet
        self.top_k = max(1, min(top_k, len(self.names)))
        self.rows: list[list[Any]] = []
        self.thumbnails: list[np.ndarray] = []
        self.captions: list[str] = []

    def add(self, file: str, frame: int | None, image_chw: np.ndarray, probs: np.ndarray) -> None:
        order = np.argsort(-probs, kind="stable")[: self.top_k]
        row: list[Any] = [file, frame]
        for k in order:
            row += [self.names[k], f"{probs[k]:.6f}"]
        self.rows.append(row)
        if self.sheet and len(self.thumbnails) < SHEET_MAX:
            self.thumbnails.append(_thumbnail(image_chw))
            where = Path(file).name + ("" if frame is None else f" #{frame}")
            self.captions.append(f"{where}\n{self.names[order[0]]} ({probs[order[0]]:.2f})")

    def finish(self, title: str) -> list[str]:
        """Write the files; return their names."""
        header = ["file", "frame"]
        for k in range(1, self.top_k + 1):
            header += [f"label_{k}", f"probability_{k}"]
        atomic_write_text(self.out / PREDICTIONS_FILE, csv_text(header, self.rows))
        written = [PREDICTIONS_FILE]
        if self.thumbnails:
            plot_gallery(self.thumbnails, self.captions, self.out / CONTACT_SHEET, title)
            written.append(CONTACT_SHEET)
        return written
