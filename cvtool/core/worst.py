"""Keep the worst-scoring images of a streaming evaluation (bounded memory) for the gallery."""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

import numpy as np


@dataclass(order=True)
class Failure:
    """An image whose IoU is at most the threshold, with its predicted mask."""

    iou: float
    name: str = field(compare=False)
    prediction: np.ndarray = field(compare=False, repr=False)


class FailureCollector:
    """Offer every image; keeps at most `limit` with IoU <= `threshold`, the lowest IoUs."""

    def __init__(self, threshold: float = 0.5, limit: int = 12) -> None:
        self.threshold = threshold
        self.limit = limit
        self.candidates = 0
        self._heap: list[tuple[float, int, Failure]] = []  # max-heap on IoU via negation
        self._order = itertools.count()

    def offer(self, name: str, iou: float, prediction: np.ndarray) -> None:
        if np.isnan(iou) or iou > self.threshold:
            return
        self.candidates += 1
        if self.limit <= 0:
            return
        entry = (-iou, next(self._order), Failure(iou, name, prediction))
        if len(self._heap) < self.limit:
            heapq.heappush(self._heap, entry)
        elif -iou > self._heap[0][0]:
            heapq.heapreplace(self._heap, entry)

    def worst_first(self) -> list[Failure]:
        return sorted((f for _, _, f in self._heap), key=lambda f: (f.iou, f.name))
