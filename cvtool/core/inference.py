"""Batched model inference shared by every task that runs a trained network.

Samples arrive one by one (decoded in worker processes), are preprocessed on the device and
grouped into batches of consecutive samples whose tensors have the same shape (a preprocessing
without a fixed size keeps each image's own), so nothing is padded or cropped to fit a batch.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

S = TypeVar("S")


@dataclass(frozen=True)
class Inference:
    """How to run the model: images per forward pass, torch device, AMP on CUDA, and the
    number of image-decoding processes (None = all cores)."""

    batch_size: int
    device: Any
    amp: bool = True
    workers: int | None = None

    @property
    def autocast(self) -> bool:
        return self.device.type == "cuda" and self.amp


def predict_batches(
    model: Any,
    samples: Iterable[S],
    tensor: Callable[[S], Any],
    run: Inference,
    group: Callable[[S], Hashable] | None = None,
) -> Iterator[tuple[list[S], Any]]:
    """Yield `(samples of the batch, float32 model outputs)` for every sample, in order.

    `tensor(sample)` is the preprocessed `(C, H, W)` input on `run.device`. Consecutive samples
    share a batch of at most `run.batch_size` while their tensors' shapes (and `group(sample)`,
    e.g. the shape of a label mask to stack with them) are equal. The model is moved to the
    device in eval mode and runs under `torch.inference_mode`, with autocast when `run.autocast`.
    """
    import torch

    model = model.to(run.device).eval()

    def forward(tensors: list[Any]) -> Any:
        with torch.inference_mode(), torch.autocast(run.device.type, enabled=run.autocast):
            return model(torch.stack(tensors)).float()

    pending: list[S] = []
    tensors: list[Any] = []
    key: Hashable = None
    for sample in samples:
        image = tensor(sample)
        sample_key = (tuple(image.shape), group(sample) if group else None)
        if pending and (len(pending) == run.batch_size or sample_key != key):
            yield pending, forward(tensors)
            pending, tensors = [], []
        pending.append(sample)
        tensors.append(image)
        key = sample_key
    if pending:
        yield pending, forward(tensors)


def logits_to_probs(logits: Any, calibration: dict[str, Any] | None = None) -> Any:
    """Class probabilities (softmax over dim 1, float32) of a batch of logits.

    The one place where predictions turn logits into probabilities: a post-hoc calibration
    stored with a model (the run manifest's `calibration` entry) is applied here, to the
    logits, before the softmax.
    """
    from cvtool.core.logit_calibration import Calibration, apply_calibration

    fitted = None if calibration is None else Calibration.from_dict(calibration, "the model")
    return apply_calibration(logits.float(), fitted).softmax(dim=1)
