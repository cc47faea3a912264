"""The synthetic shapes dataset: deterministic, varied, and prepared back to its visible truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from prepare_helpers import read_mask

from cvtool.core.artifacts import DatasetManifest
from cvtool.synthetic.shapes import (
    SHAPES,
    make_coco_shapes,
    prepare_demo_dataset,
    synthesize_shapes,
)


def test_deterministic_by_seed() -> None:
    a, b = synthesize_shapes(6, 64, seed=1), synthesize_shapes(6, 64, seed=1)
    assert all(np.array_equal(x.image, y.image) for x, y in zip(a, b, strict=True))
    assert [x.annotations for x in a] == [y.annotations for y in b]
    c = synthesize_shapes(6, 64, seed=2)
    assert not np.array_equal(a[0].image, c[0].image)


def test_has_the_cases_prepare_must_handle(tmp_path: Path) -> None:
    ann_path, images = make_coco_shapes(tmp_path, num_images=24, size=96, seed=0)
    data = json.loads(ann_path.read_text())
    anns = data["annotations"]
    assert len(data["images"]) == 24 and len(list(images.iterdir())) == 24
    assert {c["name"] for c in data["categories"]} == set(SHAPES)
    assert sum(a["iscrowd"] for a in anns) == 3
    assert all(isinstance(a["segmentation"]["counts"], list) for a in anns if a["iscrowd"])
    kinds = {type(a["segmentation"]).__name__ for a in anns if not a["iscrowd"]}
    assert kinds == {"list", "dict"}  # polygons and compressed RLE
    annotated = {a["image_id"] for a in anns}
    assert len(annotated) == 22  # images 6 and 18 are empty
    from pycocotools.coco import COCO

    coco = COCO(str(ann_path))
    overlaps = 0  # images where instances of two different classes share pixels
    for image_id in annotated:
        per_class: dict[int, np.ndarray] = {}
        for a in coco.loadAnns(coco.getAnnIds(imgIds=[image_id], iscrowd=False)):
            m = coco.annToMask(a).astype(bool)
            per_class[a["category_id"]] = per_class.get(a["category_id"], False) | m
        layers = list(per_class.values())
        overlaps += any((x & y).any() for i, x in enumerate(layers) for y in layers[i + 1 :])
    assert overlaps >= 4


def test_prepared_masks_equal_the_visible_truth(tmp_path: Path) -> None:
    samples = synthesize_shapes(16, 64, seed=3)
    out, summary = prepare_demo_dataset(tmp_path, num_images=16, size=64, seed=3, workers=1)
    assert out == tmp_path / "shapes" and summary["images"] == 16
    assert summary["classes"] == ["background", *SHAPES]
    assert DatasetManifest.load(out).splits == {"train": 11, "val": 2, "test": 3}
    for i, s in enumerate(samples):
        np.testing.assert_array_equal(read_mask(out / "masks" / f"shapes_{i:04d}.png"), s.truth)
