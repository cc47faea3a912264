"""Split arithmetic: exact counts, minimum per split, independence from input order."""

from __future__ import annotations

import pytest

from cvtool.formats.splits import random_split, split_counts, stratified_split


@pytest.mark.parametrize(
    ("n", "fractions", "min_each", "expected"),
    [
        (10, (0.7, 0.15, 0.15), 0, [7, 2, 1]),
        (20, (0.7, 0.15, 0.15), 0, [14, 3, 3]),
        (3, (0.7, 0.15, 0.15), 0, [2, 1, 0]),
        (3, (0.7, 0.15, 0.15), 1, [1, 1, 1]),
        (2, (0.7, 0.15, 0.15), 1, [2, 0, 0]),  # not enough items for one per split
        (5, (0.8, 0.2, 0.0), 1, [4, 1, 0]),
        (0, (0.7, 0.15, 0.15), 1, [0, 0, 0]),
    ],
)
def test_split_counts(n, fractions, min_each, expected) -> None:
    assert split_counts(n, fractions, min_each) == expected


def test_random_split_ignores_input_order_and_partitions() -> None:
    items = [f"{i:03d}.png" for i in range(50)]
    a = random_split(items, (0.6, 0.2, 0.2), seed=4)
    b = random_split(list(reversed(items)), (0.6, 0.2, 0.2), seed=4)
    assert a == b and [len(v) for v in a.values()] == [30, 10, 10]
    assert sorted(n for names in a.values() for n in names) == items
    assert a != random_split(items, (0.6, 0.2, 0.2), seed=5)


def test_stratified_split_keeps_fractions_per_label() -> None:
    labels = {f"a{i}": "a" for i in range(10)} | {f"b{i}": "b" for i in range(5)}
    out = stratified_split(labels, (0.6, 0.2, 0.2), seed=0)
    assert [sum(x.startswith("a") for x in out[s]) for s in out] == [6, 2, 2]
    assert [sum(x.startswith("b") for x in out[s]) for s in out] == [3, 1, 1]
    assert out == stratified_split(dict(reversed(labels.items())), (0.6, 0.2, 0.2), seed=0)
