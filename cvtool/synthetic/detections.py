"""A simulated detector: ground-truth boxes with seeded, controlled damage.

Each kind of damage produces exactly one kind of TIDE error, which makes it a test oracle and a
clearly labelled baseline when no trained detector is at hand:
- `miss`: objects left out (Miss);
- `swap`: objects given a category that does not occur in their image (Cls);
- `jitter`: boxes shifted to an IoU of 0.2-0.4 with their object (Loc);
- `duplicate`: a second, lower-scored copy of a detected object (Dupe);
- `background`: boxes that touch no object, as a fraction of the object count (Bkg);
- `box_noise`: every kept box's x, y, w, h moved by Gaussian noise of this fraction of its size
  (lowers AP at the strict IoU thresholds, so AP@[.5:.95] falls below AP50).
`score_mode` sets the scores: "ranked" gives intact detections higher scores than damaged ones;
"calibrated" gives every detection one of the levels 0.3/0.5/0.7/0.9 and makes exactly that
fraction of each level right (the rest become background boxes), so ECE is ~0;
"overconfident" is the same with `overconfidence` added to every score, so ECE is ~that gap.
These two modes decide themselves which detections are wrong: use them without other damage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from cvtool.core.boxes import box_iou, xywh_to_xyxy
from cvtool.detect.cocodata import GroundTruth

ScoreMode = Literal["ranked", "calibrated", "overconfident"]
CALIBRATION_LEVELS = (0.3, 0.5, 0.7, 0.9)


@dataclass(frozen=True)
class Damage:
    miss: float = 0.0
    swap: float = 0.0
    jitter: float = 0.0
    duplicate: float = 0.0
    background: float = 0.0
    box_noise: float = 0.0
    score_mode: ScoreMode = "ranked"
    overconfidence: float = 0.1

    @classmethod
    def demo(cls) -> Damage:
        """A plausible mediocre detector: a little of every error."""
        return cls(
            miss=0.15, swap=0.05, jitter=0.15, duplicate=0.05, background=0.3, box_noise=0.04
        )


class _Placer:
    """Boxes that overlap no ground truth (crowd regions included) in a given image."""

    def __init__(self, gt: GroundTruth, rng: np.random.Generator) -> None:
        self.gt, self.rng = gt, rng
        self.sizes = gt.ann_box[:, 2:] if len(gt.ann_box) else np.array([[32.0, 32.0]])
        self.extent = {}
        for im in gt.dataset["images"]:
            boxes = gt.ann_box[gt.ann_image == im["id"]]
            far = xywh_to_xyxy(boxes)[:, 2:].max(axis=0) if len(boxes) else np.array([64, 64])
            self.extent[int(im["id"])] = np.array(
                [im.get("width", far[0]), im.get("height", far[1])], dtype=np.float64
            )

    def place(self, image: int, tries: int = 64) -> list[float] | None:
        """A random free box, shrinking the candidates until one fits (None if none does)."""
        others = self.gt.ann_box[self.gt.ann_image == image]
        extent = self.extent[image]
        wh = np.minimum(self.sizes[self.rng.integers(len(self.sizes), size=tries)], extent / 2)
        for shrink in (1, 2, 4, 8, 16):
            size = np.maximum(wh / shrink, 1.0)
            xy = self.rng.random((tries, 2)) * (extent - size)
            boxes = np.concatenate([xy, size], axis=1)
            hit = np.flatnonzero(box_iou(boxes, others).max(axis=1, initial=0) == 0)
            if len(hit):
                return boxes[hit[0]].round(2).tolist()
        return None


def damaged_predictions(gt: GroundTruth, damage: Damage, seed: int = 0) -> list[dict[str, Any]]:
    """COCO-results predictions made from `gt` with `damage`; same seed, same output."""
    rng = np.random.default_rng(seed)
    placer = _Placer(gt, rng)
    scored = gt.scored_categories
    objects = np.flatnonzero(~gt.ann_crowd)
    n = len(objects)
    fate = rng.random(n)
    missed = fate < damage.miss
    swapped = (fate >= damage.miss) & (fate < damage.miss + damage.swap)
    jittered = (fate >= damage.miss + damage.swap) & (
        fate < damage.miss + damage.swap + damage.jitter
    )
    preds: list[dict[str, Any]] = []

    def add(image: int, cat: int, box: list[float], score: float) -> None:
        preds.append({"image_id": image, "category_id": cat, "bbox": box, "score": round(score, 4)})

    if damage.score_mode == "ranked":
        score = np.where(swapped | jittered, rng.uniform(0.3, 0.7, n), rng.uniform(0.5, 1.0, n))
    else:
        score, hit = _calibration_plan(n, rng)
        missed = ~hit
    for k, i in enumerate(objects):
        image, cat, box = int(gt.ann_image[i]), int(gt.ann_category[i]), gt.ann_box[i].tolist()
        if missed[k]:
            if damage.score_mode != "ranked" and (spot := placer.place(image)) is not None:
                add(image, int(rng.choice(scored)), spot, _reported(score[k], damage))
            continue
        if swapped[k]:
            absent = np.setdiff1d(scored, gt.ann_category[gt.ann_image == image])
            cat = int(rng.choice(absent)) if len(absent) else cat
        elif jittered[k]:
            box = _shift(i, gt, rng)
        if damage.box_noise and not jittered[k]:
            box = _noisy(box, damage.box_noise, rng)
        add(image, cat, box, _reported(score[k], damage))
        if rng.random() < damage.duplicate:
            add(image, cat, box, score[k] * rng.uniform(0.8, 1.0))
    images = gt.image_ids
    for image in rng.choice(images, size=round(damage.background * n)) if len(images) else []:
        if (spot := placer.place(int(image))) is not None:
            add(int(image), int(rng.choice(scored)), spot, float(rng.uniform(0.05, 0.6)))
    return preds


def _calibration_plan(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Score levels and right-or-wrong flags with exactly `level` right per level (rounded)."""
    levels = np.array(CALIBRATION_LEVELS)[rng.permutation(n) % len(CALIBRATION_LEVELS)]
    hit = np.zeros(n, bool)
    for level in CALIBRATION_LEVELS:
        members = rng.permutation(np.flatnonzero(levels == level))
        hit[members[: round(level * len(members))]] = True
    return levels, hit


def _reported(score: float, damage: Damage) -> float:
    return (
        min(1.0, score + damage.overconfidence) if damage.score_mode == "overconfident" else score
    )


def _noisy(box: list[float], noise: float, rng: np.random.Generator) -> list[float]:
    w, h = box[2], box[3]
    moved = np.array(box) + rng.normal(0.0, noise, 4) * np.array([w, h, w, h])
    moved[2:] = np.maximum(moved[2:], 1.0)
    return moved.round(2).tolist()


def _shift(i: int, gt: GroundTruth, rng: np.random.Generator) -> list[float]:
    """Slide object `i`'s box along x or y to an IoU in [0.2, 0.4] with it, choosing a
    direction where no other object of its class overlaps the result more (so TIDE calls it Loc
    of this object); the first direction if none is clean."""
    box = gt.ann_box[i]
    target = rng.uniform(0.2, 0.4)
    fraction = (1 - target) / (1 + target)
    same = np.flatnonzero(
        (gt.ann_image == gt.ann_image[i]) & (gt.ann_category == gt.ann_category[i])
    )
    same = same[same != i]
    options = []
    for axis in rng.permutation(2):
        for sign in rng.permutation([-1.0, 1.0]):
            shifted = box.copy()
            shifted[axis] += sign * fraction * box[2 + axis]
            options.append(shifted)
    for shifted in options:
        rival = box_iou(shifted[None], gt.ann_box[same]).max(initial=0.0)
        if rival < min(target, 0.1):
            return shifted.round(2).tolist()
    return options[0].round(2).tolist()
