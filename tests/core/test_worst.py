"""WorstK keeps the smallest keys in bounded memory, whatever the order of the offers."""

from __future__ import annotations

import numpy as np

from cvtool.core.worst import WorstK


def test_keeps_the_smallest_keys_in_order() -> None:
    rng = np.random.default_rng(0)
    keys = [(float(v), f"img{i}") for i, v in enumerate(rng.random(200).round(2))]
    expected = sorted(keys)[:7]
    for order in (keys, keys[::-1], [keys[i] for i in rng.permutation(len(keys))]):
        worst: WorstK[str] = WorstK(7)
        for key in order:
            worst.offer(key, key[1])
            assert len(worst._heap) <= 7
        assert worst.worst_first() == [name for _, name in expected]
        assert worst.offered == 200


def test_equal_keys_keep_the_earlier_and_zero_limit_only_counts() -> None:
    worst: WorstK[str] = WorstK(2)
    for item in ("a", "b", "c"):
        worst.offer(0.5, item)
    assert sorted(worst.worst_first()) == ["a", "b"]
    none: WorstK[str] = WorstK(0)
    none.offer(0.1, "x")
    assert none.worst_first() == [] and none.offered == 1
