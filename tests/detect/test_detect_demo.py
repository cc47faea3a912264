"""The demo leg: simulated baseline end to end, clearly labelled."""

from __future__ import annotations

import json

import pytest

from cvtool.core.errors import CvtoolError
from cvtool.demo.detect import BASELINE_LABEL, detect_demo


def test_simulated_baseline(tmp_path, tiny_gt_path):
    result = detect_demo(tiny_gt_path, tmp_path / "detect")
    assert result.detector == "simulated baseline"
    assert result.eval_dir == tmp_path / "detect"
    for name in ("predictions.json", "run.json", "coco_eval.json", "tide.json", "report.md"):
        assert (result.eval_dir / name).is_file()
    assert BASELINE_LABEL in (result.eval_dir / "report.md").read_text()
    assert (
        json.loads((result.eval_dir / "run.json").read_text())["detector"] == "simulated baseline"
    )
    assert set(result.headline) >= {"AP", "AP50", "tide_ap50", "tide_main_errors", "ece"}
    again = detect_demo(tiny_gt_path, tmp_path / "again")
    assert again.headline == result.headline  # seeded


def test_weights_need_images(tmp_path, tiny_gt_path):
    with pytest.raises(CvtoolError, match="needs the images folder"):
        detect_demo(tiny_gt_path, tmp_path / "d", weights=tmp_path / "w.pt")
