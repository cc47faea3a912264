"""Classification metrics against sklearn and torchmetrics on random data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from cvtool.classify.metrics import ClassificationMetrics


def _random(seed: int, n: int, k: int, skew: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    logits = rng.normal(0, 1, (n, k))
    logits[np.arange(n), labels] += skew  # better than chance, not perfect
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return probs, labels


def _streamed(probs: np.ndarray, labels: np.ndarray, k: int, batch: int = 7, bins: int = 15):
    metrics = ClassificationMetrics(k, bins)
    for i in range(0, len(labels), batch):
        metrics.update(probs[i : i + batch], labels[i : i + batch])
    return metrics.compute()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_match_sklearn(seed: int) -> None:
    k = 6
    probs, labels = _random(seed, 301, k)
    pred = probs.argmax(1)
    report = _streamed(probs, labels, k)
    np.testing.assert_array_equal(report.confusion, confusion_matrix(labels, pred, labels=range(k)))
    assert report.accuracy == pytest.approx(accuracy_score(labels, pred), abs=1e-12)
    assert report.macro_f1 == pytest.approx(f1_score(labels, pred, average="macro"), abs=1e-12)
    p, r, f, s = precision_recall_fscore_support(labels, pred, labels=range(k), zero_division=0)
    np.testing.assert_allclose(report.precision, p, atol=1e-12)
    np.testing.assert_allclose(report.recall, r, atol=1e-12)
    np.testing.assert_allclose(report.f1, f, atol=1e-12)
    np.testing.assert_array_equal(report.support, s)
    mp, mr, _, _ = precision_recall_fscore_support(labels, pred, average="macro", zero_division=0)
    assert report.macro_precision == pytest.approx(mp, abs=1e-12)
    assert report.macro_recall == pytest.approx(mr, abs=1e-12)


def test_absent_classes_follow_sklearn_default_label_set() -> None:
    """Class 3 is neither a label nor a prediction, class 2 only predicted, class 1 never
    predicted: macro means over sklearn's label set (labels and predictions), zero_division 0."""
    labels = np.array([0, 0, 1, 1, 0, 4])
    pred = np.array([0, 2, 0, 0, 0, 4])
    probs = np.full((6, 5), 0.05)
    probs[np.arange(6), pred] = 0.8
    report = _streamed(probs, labels, 5, batch=4)
    assert report.present.tolist() == [True, True, True, False, True]
    assert report.macro_f1 == pytest.approx(f1_score(labels, pred, average="macro"), abs=1e-12)
    assert report.macro_precision == pytest.approx(
        precision_recall_fscore_support(labels, pred, average="macro", zero_division=0)[0]
    )
    assert report.f1[1] == 0.0 and report.precision[2] == 0.0


def test_ece_matches_torchmetrics() -> None:
    import torch
    from torchmetrics.classification import MulticlassCalibrationError

    k = 5
    probs, labels = _random(3, 500, k, skew=1.0)
    report = _streamed(probs, labels, k, batch=64, bins=10)
    oracle = MulticlassCalibrationError(num_classes=k, n_bins=10, norm="l1")
    ece = oracle(torch.tensor(probs, dtype=torch.float64), torch.tensor(labels)).item()
    mce = MulticlassCalibrationError(num_classes=k, n_bins=10, norm="max")(
        torch.tensor(probs, dtype=torch.float64), torch.tensor(labels)
    ).item()
    assert report.calibration.ece == pytest.approx(ece, abs=1e-6)
    assert report.calibration.mce == pytest.approx(mce, abs=1e-6)


def test_exact_values_on_a_tiny_batch() -> None:
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])
    labels = np.array([0, 1, 1, 1])
    report = _streamed(probs, labels, 2, bins=2)
    assert report.confusion.tolist() == [[1, 0], [1, 2]]
    assert report.accuracy == 0.75
    # bins (0, .5], (.5, 1]: all four confidences (.9 .6 .7 .8) in the upper bin, mean .75, acc .75
    assert report.calibration.ece == pytest.approx(0.0)
    assert report.headline()["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)


def test_torch_inputs_and_bad_shapes() -> None:
    import torch

    metrics = ClassificationMetrics(3)
    metrics.update(torch.tensor([[0.2, 0.5, 0.3]]), torch.tensor([1]))
    assert metrics.compute().accuracy == 1.0
    with pytest.raises(ValueError, match="do not match"):
        metrics.update(np.ones((2, 4)) / 4, np.array([0, 1]))
    with pytest.raises(ValueError, match="label ids"):
        metrics.update(np.ones((1, 3)) / 3, np.array([3]))
