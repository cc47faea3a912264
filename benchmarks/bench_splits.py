"""Class presence per split: plain random splits vs the stratified splits of `prepare coco`.

The masks of a COCO file are rendered as `prepare coco` renders them (without writing
anything); each image's "classes present" are the classes with pixels in its mask. Both
splitters then cut the images 0.7/0.15/0.15 for many seeds, and the table counts how often a
class has no image in a split.

    python benchmarks/bench_splits.py [--data ../shared/data/coco] [--seeds 200]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from cvtool.core.artifacts import SPLITS
from cvtool.formats.coco import build_jobs, load_coco, render_mask
from cvtool.formats.splits import multilabel_split, split_counts

FRACTIONS = (0.7, 0.15, 0.15)


def presence(data: Path, classes: list[str] | None) -> tuple[list[str], list[str], np.ndarray]:
    """Class names, image names and the `(images, classes)` presence matrix of the masks."""
    annotations = data / "annotations" / "instances_val2017.json"
    index = load_coco(annotations)
    names = classes or sorted(index.categories, key=index.categories.__getitem__)
    ids = {index.categories[n]: i + 1 for i, n in enumerate(names)}
    rank = {i + 1: -i for i in range(len(names))}
    jobs, _ = build_jobs(index, annotations, data / "val2017", ids, rank, "ignore", False)
    masks = [np.bincount(render_mask(j).ravel(), minlength=256) for j in jobs]
    matrix = np.array([m[1 : len(names) + 1] > 0 for m in masks])
    return names, [j.file_name for j in jobs], matrix


def plain_random(items: list[str], seed: int) -> dict[str, list[str]]:
    """The split `prepare coco` made before: shuffle, then cut by the fractions."""
    order = sorted(items)
    shuffled = [order[i] for i in np.random.default_rng(seed).permutation(len(order))]
    cuts = np.cumsum([0, *split_counts(len(items), FRACTIONS, min_each=1)])
    return {s: shuffled[cuts[k] : cuts[k + 1]] for k, s in enumerate(SPLITS)}


def absences(splits: dict[str, list[str]], items: list[str], matrix: np.ndarray) -> np.ndarray:
    """`(splits, classes)`: True where a split holds no image of a class."""
    row = {name: i for i, name in enumerate(items)}
    return np.array([~matrix[[row[n] for n in splits[s]]].any(axis=0) for s in SPLITS])


def report(title: str, names: list[str], items: list[str], matrix: np.ndarray, seeds: int) -> None:
    counts = matrix.sum(axis=0)
    groups = {"all": counts > 0, ">= 3 images": counts >= len(SPLITS), "2 images": counts == 2}
    print(
        f"\n{title}: {len(items)} images, {len(names)} classes "
        f"({groups['>= 3 images'].sum()} with >= 3 images, {groups['2 images'].sum()} with 2)"
    )
    print("classes with no image in val / in test, mean over seeds:")
    print("| classes | random | stratified |")
    print("|---|---|---|")
    gaps = {}
    for label, split in (("random", plain_random), ("stratified", None)):
        runs = []
        for seed in range(seeds):
            s = split(items, seed) if split else multilabel_split(items, matrix, FRACTIONS, seed)
            runs.append(absences(s, items, matrix))
        gaps[label] = np.array(runs)  # (seeds, splits, classes)
    for group, mask in groups.items():
        cells = [
            f"{g[:, 1, mask].sum(axis=1).mean():.2f} / {g[:, 2, mask].sum(axis=1).mean():.2f}"
            for g in gaps.values()
        ]
        print(f"| {group} ({mask.sum()}) | {cells[0]} | {cells[1]} |")
    if len(names) <= 8:
        print("\nimages per split, seed 0 (train/val/test):")
        print("| class | images | random | stratified |")
        print("|---|---:|---|---|")
        rows = {
            "random": plain_random(items, 0),
            "stratified": multilabel_split(items, matrix, FRACTIONS, 0),
        }
        index = {n: i for i, n in enumerate(items)}
        for c, name in enumerate(names):
            cells = [
                "/".join(str(int(matrix[[index[n] for n in s[sp]], c].sum())) for sp in SPLITS)
                for s in rows.values()
            ]
            print(f"| {name} | {int(counts[c])} | {cells[0]} | {cells[1]} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/coco"))
    parser.add_argument("--seeds", type=int, default=200)
    args = parser.parse_args()
    for title, classes in (
        ("person,car,bus,dog", ["person", "car", "bus", "dog"]),
        ("all 80 classes", None),
    ):
        names, items, matrix = presence(args.data, classes)
        report(title, names, items, matrix, args.seeds)


if __name__ == "__main__":
    main()
