"""Batched model inference settings shared by every task that runs a trained network."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Inference:
    """How to run the model: images per forward pass, torch device, AMP on CUDA, and the
    number of image-decoding processes (None = all cores)."""

    batch_size: int
    device: Any
    amp: bool = True
    workers: int | None = None
