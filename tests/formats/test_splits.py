"""Split arithmetic: exact counts, minimum per split, independence from input order, and the
iterative stratification of multi-label items."""

from __future__ import annotations

import numpy as np
import pytest

from cvtool.core.artifacts import SPLITS
from cvtool.formats.splits import (
    iterative_stratification,
    multilabel_split,
    split_counts,
    stratified_split,
)


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


def test_multilabel_split_ignores_input_order_and_partitions() -> None:
    items = [f"{i:03d}.png" for i in range(50)]
    labels = np.random.default_rng(0).random((50, 4)) < 0.3
    a = multilabel_split(items, labels, (0.6, 0.2, 0.2), seed=4)
    b = multilabel_split(items[::-1], labels[::-1], (0.6, 0.2, 0.2), seed=4)
    assert a == b and sorted(n for names in a.values() for n in names) == items
    assert [len(v) for v in a.values()] == pytest.approx([30, 10, 10], abs=2)
    assert a != multilabel_split(items, labels, (0.6, 0.2, 0.2), seed=5)


def test_multilabel_split_spreads_rare_classes() -> None:
    """Seven images of a rare class among 40, at least one in val and one in test for every
    seed (plain random shuffling leaves val without it for about 28% of seeds)."""
    items = [f"{i:02d}" for i in range(40)]
    labels = np.zeros((40, 2), dtype=bool)
    labels[:, 0] = True
    positions = (3, 9, 17, 22, 30, 34, 38)
    labels[positions, 1] = True
    rare = {items[i] for i in positions}
    for seed in range(20):
        out = multilabel_split(items, labels, (0.7, 0.15, 0.15), seed)
        assert all(rare & set(out[s]) for s in SPLITS), seed


def test_multilabel_split_small_and_zero_fraction() -> None:
    out = multilabel_split(list("abc"), np.zeros((3, 1), bool), (0.7, 0.15, 0.15), 0)
    assert [len(out[s]) for s in SPLITS] == [1, 1, 1]
    out = multilabel_split(list("abcde"), np.ones((5, 1), bool), (0.8, 0.2, 0.0), 0)
    assert [len(out[s]) for s in SPLITS] == [4, 1, 0]


def test_iterative_stratification_matches_iterstrat() -> None:
    """The same steps and random draws as the reference implementation."""
    iterstrat = pytest.importorskip("iterstrat.ml_stratifiers")
    rng = np.random.default_rng(1)
    for seed in range(30):
        labels = rng.random((int(rng.integers(1, 150)), 6)) < rng.random(6) * 0.5
        r = np.array([0.7, 0.15, 0.15]) if seed % 2 else np.array([0.8, 0.2])
        ours = iterative_stratification(labels, r, np.random.RandomState(seed))
        theirs = iterstrat.IterativeStratification(labels, r, np.random.RandomState(seed))
        np.testing.assert_array_equal(ours, theirs)


def test_stratified_split_keeps_fractions_per_label() -> None:
    labels = {f"a{i}": "a" for i in range(10)} | {f"b{i}": "b" for i in range(5)}
    out = stratified_split(labels, (0.6, 0.2, 0.2), seed=0)
    assert [sum(x.startswith("a") for x in out[s]) for s in out] == [6, 2, 2]
    assert [sum(x.startswith("b") for x in out[s]) for s in out] == [3, 1, 1]
    assert out == stratified_split(dict(reversed(labels.items())), (0.6, 0.2, 0.2), seed=0)


def test_multilabel_split_places_very_rare_classes() -> None:
    """A class of three images goes to every split; of two, to train and val."""
    items = [f"{i:02d}" for i in range(40)]
    labels = np.zeros((40, 3), dtype=bool)
    labels[:, 0] = True
    labels[[5, 25, 33], 1] = True
    labels[[12, 19], 2] = True
    for seed in range(10):
        out = multilabel_split(items, labels, (0.7, 0.15, 0.15), seed)
        where = {s: {int(n) for n in out[s]} for s in SPLITS}
        assert all(where[s] & {5, 25, 33} for s in SPLITS)
        assert where["train"] & {12, 19} and where["val"] & {12, 19}
