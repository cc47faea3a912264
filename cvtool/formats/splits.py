"""Deterministic train/val/test splits, stratified: by the label of each item (classification)
or by the classes present in each image (segmentation, iterative stratification)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cvtool.core.artifacts import SPLITS, atomic_write_text, csv_text
from cvtool.core.layout import SPLITS_DIR


def split_counts(n: int, fractions: Sequence[float], min_each: int = 0) -> list[int]:
    """Split `n` items by `fractions` (largest remainder), summing exactly to `n`.

    With `min_each`, every split with a positive fraction gets at least that many items when
    `n` allows it, taken from the largest split.
    """
    raw = np.asarray(fractions, dtype=float) * n
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    wanted = [i for i, f in enumerate(fractions) if f > 0]
    if min_each and n >= min_each * len(wanted):
        for i in wanted:
            while counts[i] < min_each:
                counts[int(np.argmax(counts))] -= 1
                counts[i] += 1
    return counts.tolist()


def _shuffled(items: Sequence[str], rng: np.random.Generator) -> list[str]:
    ordered = sorted(items)
    return [ordered[i] for i in rng.permutation(len(ordered))]


def _pick(candidates: np.ndarray, rng: np.random.RandomState) -> int:
    return int(candidates[rng.choice(len(candidates))] if len(candidates) > 1 else candidates[0])


def iterative_stratification(
    labels: np.ndarray,
    fractions: Sequence[float],
    rng: np.random.RandomState,
    wanted_per_label: np.ndarray | None = None,
) -> np.ndarray:
    """The subset of each sample, by Sechidis et al.'s iterative stratification.

    `labels` is `(samples, labels)` boolean. The label with the fewest samples left is dealt
    first; each of its samples goes to the subset that still wants most of that label (ties:
    most samples wanted overall, then at random); samples with no label fill the subsets last.
    `wanted_per_label` (`(subsets, labels)`) is how many samples of each label each subset
    wants, by default `fractions * count` as in the paper. With the default, the same steps and
    random draws as `iterstrat.ml_stratifiers.IterativeStratification`.

    Reference: K. Sechidis, G. Tsoumakas, I. Vlahavas, "On the Stratification of Multi-Label
    Data", ECML PKDD 2011.
    """
    labels = np.asarray(labels, dtype=bool)
    r = np.asarray(fractions, dtype=float)
    subsets = np.zeros(len(labels), dtype=int)
    wanted = r * len(labels)
    if wanted_per_label is None:
        wanted_per_label = np.outer(r, labels.sum(axis=0))
    wanted_per_label = np.array(wanted_per_label, dtype=float)
    left = np.ones(len(labels), dtype=bool)
    while left.any():
        remaining = labels[left].sum(axis=0)
        if not remaining.any():
            for i in np.flatnonzero(left):
                subset = _pick(np.flatnonzero(wanted == wanted.max()), rng)
                subsets[i] = subset
                wanted[subset] -= 1
            break
        label = _pick(np.flatnonzero(remaining == remaining[remaining > 0].min()), rng)
        for i in np.flatnonzero(labels[:, label] & left):
            column = wanted_per_label[:, label]
            best = np.flatnonzero(column == column.max())
            if len(best) > 1:
                best = best[wanted[best] == wanted[best].max()]
            subset = _pick(best, rng)
            subsets[i] = subset
            left[i] = False
            wanted_per_label[subset, labels[i]] -= 1
            wanted[subset] -= 1
    return subsets


def _fill_empty(subsets: np.ndarray, labels: np.ndarray, count: int) -> None:
    """Give every subset at least one sample when there are enough: each empty one takes, from
    the largest, the sample whose labels that subset holds most of."""
    if len(subsets) < count:
        return
    for target in range(count):
        if (subsets == target).any():
            continue
        donor = int(np.bincount(subsets, minlength=count).argmax())
        members = np.flatnonzero(subsets == donor)
        held = labels[members].sum(axis=0)
        spare = [held[labels[i]].min(initial=len(members)) for i in members]
        subsets[members[int(np.argmax(spare))]] = target


def _class_targets(count: int, fractions: np.ndarray) -> list[int]:
    """How many items of a class of `count` each split wants: by the fractions with at least
    one each; with fewer items than splits, one for each of the first splits (train, then
    val), so a rare class is trained on and, where possible, validated."""
    if count >= len(fractions):
        return split_counts(count, fractions, min_each=1)
    return [1] * count + [0] * (len(fractions) - count)


def multilabel_split(
    items: Sequence[str], labels: np.ndarray, fractions: Sequence[float], seed: int
) -> dict[str, list[str]]:
    """Split items (row `i` of boolean `labels`: the classes item `i` holds) into `SPLITS` by
    iterative stratification, so each class is spread over the splits by `fractions`.

    Each split wants a whole number of each class's items (`_class_targets`): the paper's
    `fraction * count` would leave a class of three images out of a 15% split every time.
    Deterministic for a seed and independent of the input order; lists come sorted. Split
    sizes follow the fractions closely, not exactly; every split with a positive fraction gets
    at least one item when there are enough.
    """
    rng = np.random.RandomState(seed)
    order = sorted(range(len(items)), key=lambda i: items[i])
    order = [order[i] for i in rng.permutation(len(order))]
    wanted = [i for i, f in enumerate(fractions) if f > 0]
    r = np.array([fractions[i] for i in wanted]) / sum(fractions[i] for i in wanted)
    rows = np.asarray(labels, dtype=bool).reshape(len(items), -1)[order]
    targets = np.array([_class_targets(int(n), r) for n in rows.sum(axis=0)])
    subsets = iterative_stratification(rows, r, rng, targets.T.reshape(len(r), -1))
    _fill_empty(subsets, rows, len(wanted))
    out: dict[str, list[str]] = {split: [] for split in SPLITS}
    for item, subset in zip(order, subsets, strict=True):
        out[SPLITS[wanted[subset]]].append(items[item])
    return {split: sorted(names) for split, names in out.items()}


def split_by_classes(
    counts: dict[str, np.ndarray], num_classes: int, fractions: Sequence[float], seed: int
) -> dict[str, list[str]]:
    """`multilabel_split` of segmentation images by the classes their masks hold
    (`counts[name]`: pixels per mask value)."""
    names = list(counts)
    presence = np.array([counts[n][:num_classes] > 0 for n in names], dtype=bool)
    return multilabel_split(names, presence.reshape(len(names), num_classes), fractions, seed)


def stratified_split(
    labels: dict[str, str], fractions: Sequence[float], seed: int
) -> dict[str, list[str]]:
    """Split item -> label so each label keeps the fractions and, when it has at least one
    item per wanted split, appears in every split with a positive fraction."""
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[str]] = {}
    for item, label in labels.items():
        by_label.setdefault(label, []).append(item)
    out: dict[str, list[str]] = {split: [] for split in SPLITS}
    for label in sorted(by_label):
        shuffled = _shuffled(by_label[label], rng)
        start = 0
        for split, count in zip(
            SPLITS, split_counts(len(shuffled), fractions, min_each=1), strict=True
        ):
            out[split].extend(shuffled[start : start + count])
            start += count
    return {split: sorted(items) for split, items in out.items()}


def write_split_lists(directory: Path, splits: dict[str, list[str]]) -> None:
    """`splits/<split>.txt`: one image file name per line (segmentation)."""
    for split in SPLITS:
        names = splits.get(split, [])
        atomic_write_text(directory / SPLITS_DIR / f"{split}.txt", "".join(f"{n}\n" for n in names))


def write_split_csvs(directory: Path, rows: dict[str, list[tuple[str, str]]]) -> None:
    """`splits/<split>.csv` with header `path,label` (classification)."""
    for split in SPLITS:
        text = csv_text(["path", "label"], rows.get(split, []))
        atomic_write_text(directory / SPLITS_DIR / f"{split}.csv", text)
