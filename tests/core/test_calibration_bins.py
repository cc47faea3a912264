"""Binned ECE against a hand-computed example and torchmetrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchmetrics.classification import MulticlassCalibrationError

from cvtool.core.calibration import CalibrationBins
from cvtool.core.plots import plot_reliability


def test_hand_computed_ece() -> None:
    # 2 bins: [0, .5] holds 0.2 (wrong) and 0.4 (right) -> conf .3, acc .5, gap .2
    #         (.5, 1] holds 0.9, 0.8 (right) and 0.7 (wrong) -> conf .8, acc 2/3, gap 2/15
    bins = CalibrationBins(2).update([0.2, 0.4, 0.9, 0.8, 0.7], [0, 1, 1, 1, 0])
    result = bins.compute()
    assert result.count.tolist() == [2, 3]
    assert result.ece == pytest.approx((2 * 0.2 + 3 * 2 / 15) / 5)
    assert result.mce == pytest.approx(0.2)
    table = result.to_dict()["bins"]
    assert table[0]["accuracy"] == pytest.approx(0.5) and table[1]["gap"] == pytest.approx(
        0.8 - 2 / 3
    )


def test_bin_edges_are_right_closed() -> None:
    bins = CalibrationBins(4)
    np.testing.assert_array_equal(
        bins.bin_index(np.array([0.0, 0.25, 0.2500001, 1.0])), [0, 0, 1, 3]
    )


def test_matches_torchmetrics_top_label_ece() -> None:
    rng = np.random.default_rng(0)
    logits = torch.from_numpy(rng.normal(size=(2000, 6)) * 2)
    target = torch.from_numpy(rng.integers(0, 6, 2000))
    target[:1000] = logits[:1000].argmax(1)  # make the model partly right
    probs = logits.softmax(1)
    conf, pred = probs.max(1)
    bins = CalibrationBins(15)
    for chunk in range(4):  # streaming in chunks gives the same result
        sl = slice(chunk * 500, (chunk + 1) * 500)
        bins.update(conf[sl], pred[sl] == target[sl])
    for norm, value in (("l1", bins.compute().ece), ("max", bins.compute().mce)):
        expected = MulticlassCalibrationError(6, n_bins=15, norm=norm)(probs, target).item()
        assert value == pytest.approx(expected, abs=1e-6)


def test_merge_state_round_trip_and_errors(tmp_path) -> None:
    a = CalibrationBins(5).update([0.1, 0.9], [1, 1])
    b = CalibrationBins.from_state(CalibrationBins(5).update([0.5], [0]).state())
    merged = a.merge(b).compute()
    whole = CalibrationBins(5).update([0.1, 0.9, 0.5], [1, 1, 0]).compute()
    assert merged.ece == pytest.approx(whole.ece)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        CalibrationBins().update([1.5], [1])
    with pytest.raises(ValueError, match="2 confidences but 1"):
        CalibrationBins().update([0.5, 0.5], [1])
    assert np.isnan(CalibrationBins().compute().ece)
    out = plot_reliability(whole, tmp_path / "rel.png")
    assert out.read_bytes()[:4] == b"\x89PNG"
