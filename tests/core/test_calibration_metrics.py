"""Adaptive ECE, classwise ECE, NLL and Brier score: hand-computed values and oracles (netcal,
torchmetrics, sklearn), streamed in chunks and merged from shards."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import brier_score_loss, log_loss
from torchmetrics.functional.classification import (
    binary_calibration_error,
    multiclass_calibration_error,
)

from cvtool.core.calibration import FINE_EDGES, CalibrationBins
from cvtool.core.calibration_metrics import CalibrationMetrics
from cvtool.core.plots import plot_reliability


def _probs(n: int, c: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Softmax probabilities and labels drawn from a softer version of them (mixed gaps)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, c)) * 2
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    soft = np.exp(logits / 1.5) / np.exp(logits / 1.5).sum(1, keepdims=True)
    labels = (soft.cumsum(1) > rng.random((n, 1))).argmax(1)
    return probs, labels


def test_adaptive_ece_hand_computed() -> None:
    # 2 equal-mass bins, sorted: .6 .7 | .8 .9 -> mean .65 vs acc .5, and .85 vs 1.0
    bins = CalibrationBins(2).update([0.9, 0.6, 0.8, 0.7], [1, 1, 1, 0])
    result = bins.compute()
    assert result.adaptive_ece == pytest.approx((2 * 0.15 + 2 * 0.15) / 4)
    assert result.ece == pytest.approx(0.0)  # equal width: all four in (.5, 1], .75 vs .75
    adaptive = result.to_dict()["adaptive_bins"]
    assert [b["count"] for b in adaptive] == [2, 2]
    assert adaptive[0]["lower"] < 0.6 <= 0.7 <= adaptive[0]["upper"] < 0.8


def test_adaptive_ece_matches_netcal_equal_mass_bins() -> None:
    from netcal.metrics import ECE

    rng = np.random.default_rng(1)
    n = 400  # one confidence per fine cell, all above 0.5 (the top label of two classes)
    cells = rng.choice(np.arange(600, len(FINE_EDGES)), n, replace=False)
    lower = np.concatenate([[0.0], FINE_EDGES[:-1]])
    conf = (lower[cells] + FINE_EDGES[cells]) / 2
    right = rng.random(n) < conf**2
    ours = CalibrationBins(10).update(conf, right).compute().adaptive_ece
    two_class = np.stack([conf, 1 - conf], axis=1)
    expected = ECE(10, equal_intervals=False).measure(two_class, np.where(right, 0, 1))
    assert ours == pytest.approx(expected, abs=1e-9)


def test_nll_and_brier_hand_computed() -> None:
    report = CalibrationMetrics(2).update(np.array([[0.8, 0.2], [0.4, 0.6]]), [0, 0]).compute()
    assert report.nll == pytest.approx(-(np.log(0.8) + np.log(0.4)) / 2)
    assert report.brier == pytest.approx(((0.04 + 0.04) + (0.36 + 0.36)) / 2)
    assert report.accuracy == 0.5


def test_streamed_metrics_match_oracles() -> None:
    probs, labels = _probs(3000, 4)
    probs_t = torch.tensor(probs)  # float64: sklearn sees exactly what we do
    metrics = CalibrationMetrics(4, n_bins=15)
    for start in range(0, 3000, 700):  # streaming in chunks gives the same numbers
        metrics.update(probs_t[start : start + 700], labels[start : start + 700])
    report = metrics.compute()
    target = torch.from_numpy(labels)
    assert report.ece == pytest.approx(
        multiclass_calibration_error(probs_t, target, 4, 15).item(), abs=1e-6
    )
    mce = multiclass_calibration_error(probs_t, target, 4, 15, norm="max").item()
    assert report.mce == pytest.approx(mce, abs=1e-6)
    per_class = [binary_calibration_error(probs_t[:, c], target == c, 15).item() for c in range(4)]
    np.testing.assert_allclose(report.class_ece, per_class, atol=1e-6)
    assert report.classwise_ece == pytest.approx(np.mean(per_class), abs=1e-6)
    assert report.nll == pytest.approx(log_loss(labels, probs), rel=1e-9)
    assert report.brier == pytest.approx(brier_score_loss(labels, probs, labels=range(4)), rel=1e-9)


def test_shards_merge_and_state_round_trip(tmp_path) -> None:
    probs, labels = _probs(500, 3, seed=2)
    whole = CalibrationMetrics(3).update(probs, labels).compute()
    first = CalibrationMetrics(3).update(probs[:200], labels[:200])
    second = CalibrationMetrics(3).update(probs[200:], labels[200:])
    np.savez(tmp_path / "shard.npz", **second.state())
    with np.load(tmp_path / "shard.npz") as data:
        restored = CalibrationMetrics.from_state({k: data[k] for k in data.files})
    merged = first.merge(restored).compute()
    assert merged.summary() == pytest.approx(whole.summary())
    with pytest.raises(ValueError, match="cannot merge"):
        first.merge(CalibrationMetrics(4))
    with pytest.raises(ValueError, match=r"label ids must lie in 0\.\.2"):
        CalibrationMetrics(3).update(probs[:2], [0, 3])
    raw = CalibrationMetrics(3).update(np.full((500, 3), 1 / 3), labels).compute()
    out = plot_reliability(whole.top, tmp_path / "both.png", raw=raw.top)
    assert out.read_bytes()[:4] == b"\x89PNG"
