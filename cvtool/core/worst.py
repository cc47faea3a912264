"""Keep the worst items of a streaming evaluation, in memory bounded by the number kept.

>>> worst = WorstK(limit=12)
>>> worst.offer((iou, name), failure)          # smaller key = worse; keys should be unique
>>> worst.worst_first()                        # the 12 smallest keys, in key order
"""

from __future__ import annotations

import heapq
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class _Kept(Generic[T]):
    """A heap entry ordered by reversed key, so the heap's root is the best item kept."""

    __slots__ = ("item", "key")

    def __init__(self, key: Any, item: T) -> None:
        self.key, self.item = key, item

    def __lt__(self, other: _Kept[T]) -> bool:
        return other.key < self.key


class WorstK(Generic[T]):
    """Offer every candidate with its sort key; keeps the `limit` with the smallest keys.

    `offered` counts every candidate. Among equal keys the earlier offered is kept; with unique
    keys the result does not depend on the order of the offers, so shards merge exactly.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.offered = 0
        self._heap: list[_Kept[T]] = []

    def offer(self, key: Any, item: T) -> None:
        self.offered += 1
        if self.limit <= 0:
            return
        if len(self._heap) < self.limit:
            heapq.heappush(self._heap, _Kept(key, item))
        elif key < self._heap[0].key:
            heapq.heapreplace(self._heap, _Kept(key, item))

    def worst_first(self) -> list[T]:
        return [kept.item for kept in sorted(self._heap, key=lambda k: k.key)]
