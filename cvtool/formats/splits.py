"""Deterministic train/val/test splits: plain random for segmentation, stratified by label."""

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


def random_split(
    items: Sequence[str], fractions: Sequence[float], seed: int
) -> dict[str, list[str]]:
    """Shuffle (by `seed`, independent of input order) and cut into `SPLITS`; lists come sorted.

    Every split with a positive fraction gets at least one item when there are enough.
    """
    shuffled = _shuffled(items, np.random.default_rng(seed))
    out: dict[str, list[str]] = {}
    start = 0
    for split, count in zip(
        SPLITS, split_counts(len(shuffled), fractions, min_each=1), strict=True
    ):
        out[split] = sorted(shuffled[start : start + count])
        start += count
    return out


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
