"""Real CamVid (../shared/data/camvid): prepare, then score predicted masks on the test split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import jaccard_score

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def test_camvid_test_split_scores(cli, camvid_data, tmp_path):
    names = (camvid_data / "splits" / "test.txt").read_text().split()
    masks = {
        n: np.asarray(Image.open(camvid_data / "masks" / f"{Path(n).stem}.png")) for n in names
    }
    labels = np.concatenate([m.ravel() for m in masks.values()])
    labels = labels[labels != 255]
    majority = int(np.bincount(labels).argmax())
    num_classes = len(json.loads((camvid_data / "dataset.json").read_text())["classes"])

    def score(preds: dict[str, np.ndarray], name: str) -> dict:
        pred_dir = tmp_path / name
        pred_dir.mkdir()
        for n, pred in preds.items():
            Image.fromarray(pred.astype(np.uint8), mode="L").save(pred_dir / f"{Path(n).stem}.png")
        out = tmp_path / f"{name}-eval"
        result = cli("evaluate", "--predictions", pred_dir, "--data", camvid_data, "--out", out,
                     "--max-failures", 2, "--workers", 2)  # fmt: skip
        assert result.exit_code == 0, result.stderr
        return json.loads((out / "metrics.json").read_text())

    # the ground truth itself (any class where the label is ignored) scores 1
    perfect = score({n: np.where(m == 255, 0, m) for n, m in masks.items()}, "truth")
    assert perfect["images"] == len(names) == 25
    assert perfect["headline"]["miou"] == 1.0 and perfect["headline"]["pixel_accuracy"] == 1.0

    # everything the most frequent class: accuracy is that class's share of the labels
    flat = score({n: np.full_like(m, majority) for n, m in masks.items()}, "majority")
    assert flat["headline"]["pixel_accuracy"] == pytest.approx(np.mean(labels == majority))
    iou = jaccard_score(labels, np.full_like(labels, majority), labels=range(num_classes),
                        average=None, zero_division=0)  # fmt: skip
    present = np.isin(np.arange(num_classes), np.append(np.unique(labels), majority))
    assert flat["headline"]["miou"] == pytest.approx(iou[present].mean())
    assert len(flat["failures"]) == 2 and flat["failure_candidates"] == 25
