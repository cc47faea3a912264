"""The logits and labels a calibration is fitted on, kept in memory or spilled to disk.

A segmentation split at full resolution has millions of labelled pixels, each with a logit per
class (CamVid's 25 validation images: 4.3 million pixels x 12 classes, 200 MB in float32), and
fitting reads all of them on every optimiser step. `LogitStore(spill=True)` writes each
appended chunk to a `.npy` file in a temporary directory and reads one chunk at a time back, so
memory holds one chunk whatever the split's size; `spill=False` keeps the chunks in memory
(for a subsample of pixels, or the images of a classification split).

>>> with LogitStore(num_classes=12, spill=True) as store:
...     store.append(logits, labels)              # (N, C) float32, (N,) int64, any device
...     for chunk_logits, chunk_labels in store:  # CPU tensors, in the order appended
...         ...
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


class LogitStore:
    """Chunks of `(logits (N, C) float32, labels (N,) int64)`, iterated in order."""

    def __init__(self, num_classes: int, spill: bool = False) -> None:
        self.num_classes = num_classes
        self.spill = spill
        self.rows = 0
        self._chunks: list[tuple[Any, Any]] = []
        self._files: list[tuple[Path, Path]] = []
        self._dir = tempfile.TemporaryDirectory(prefix="cvtool-logits-") if spill else None

    def __len__(self) -> int:
        return self.rows

    def append(self, logits: Any, labels: Any) -> None:
        """Add `logits (N, C)` and their integer `labels (N,)`, tensors (moved to the CPU) or
        arrays."""
        import torch

        logits = torch.as_tensor(logits).detach().float().cpu().contiguous()
        labels = torch.as_tensor(labels).detach().long().cpu().reshape(-1)
        if logits.is_inference() or labels.is_inference():  # made under inference_mode:
            logits, labels = logits.clone(), labels.clone()  # the fit needs autograd on them
        if logits.shape != (labels.numel(), self.num_classes):
            raise ValueError(
                f"logits of shape {tuple(logits.shape)} do not match {labels.numel()} labels of "
                f"{self.num_classes} classes"
            )
        if not labels.numel():
            return
        self.rows += labels.numel()
        if self._dir is None:
            self._chunks.append((logits, labels))
            return
        stem = Path(self._dir.name) / f"{len(self._files):06d}"
        files = (stem.with_suffix(".logits.npy"), stem.with_suffix(".labels.npy"))
        np.save(files[0], logits.numpy())
        np.save(files[1], labels.numpy())
        self._files.append(files)

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        import torch

        if self._dir is None:
            yield from self._chunks
            return
        for logits_file, labels_file in self._files:
            yield torch.from_numpy(np.load(logits_file)), torch.from_numpy(np.load(labels_file))

    def close(self) -> None:
        """Drop the chunks and remove the spill directory."""
        self._chunks.clear()
        self._files.clear()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> LogitStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
