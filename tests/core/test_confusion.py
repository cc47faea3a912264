"""ConfusionMatrix against sklearn and torchmetrics on random data with ignore pixels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from torchmetrics.classification import MulticlassJaccardIndex

from cvtool.core.confusion import ConfusionMatrix, scores_from_confusion

N_CLASSES = 5


def _random_batches(seed: int = 0):
    rng = np.random.default_rng(seed)
    for _ in range(3):
        target = rng.integers(0, N_CLASSES, size=(2, 17, 23))
        target[rng.random(target.shape) < 0.1] = 255
        pred = np.where(
            rng.random(target.shape) < 0.6, target, rng.integers(0, N_CLASSES, target.shape)
        )
        pred[pred == 255] = 0
        yield pred, target


def test_matches_sklearn_and_torchmetrics() -> None:
    cm = ConfusionMatrix(N_CLASSES)
    preds, targets = [], []
    for pred, target in _random_batches():
        cm.update(torch.from_numpy(pred), torch.from_numpy(target))
        preds.append(pred.ravel())
        targets.append(target.ravel())
    pred_all, target_all = np.concatenate(preds), np.concatenate(targets)
    keep = target_all != 255
    expected = confusion_matrix(target_all[keep], pred_all[keep], labels=range(N_CLASSES))
    np.testing.assert_array_equal(cm.numpy(), expected)

    scores = cm.compute()
    p, r, f1, support = precision_recall_fscore_support(
        target_all[keep], pred_all[keep], labels=range(N_CLASSES), zero_division=0
    )
    np.testing.assert_allclose(scores.precision, p)
    np.testing.assert_allclose(scores.recall, r)
    np.testing.assert_allclose(scores.dice, f1)
    np.testing.assert_array_equal(scores.support, support)
    jaccard = MulticlassJaccardIndex(N_CLASSES, average=None, ignore_index=255)
    iou = jaccard(torch.from_numpy(pred_all), torch.from_numpy(target_all)).numpy()
    np.testing.assert_allclose(scores.iou, iou, rtol=1e-6)
    assert scores.pixel_accuracy == pytest.approx((pred_all[keep] == target_all[keep]).mean())
    assert scores.miou == pytest.approx(iou.mean(), rel=1e-6)


def test_absent_classes_are_nan_and_excluded_from_means() -> None:
    cm = np.array([[3, 1, 0], [0, 2, 0], [0, 0, 0]])
    scores = scores_from_confusion(cm)
    assert np.isnan(scores.iou[2]) and not scores.present[2]
    assert scores.iou[:2].tolist() == [3 / 4, 2 / 3]
    assert scores.miou == pytest.approx((3 / 4 + 2 / 3) / 2)
    assert scores.mean_class_accuracy == pytest.approx((3 / 4 + 1) / 2)
    assert scores.fw_iou == pytest.approx((4 * 3 / 4 + 2 * 2 / 3) / 6)


def test_merge_equals_single_pass_and_rejects_bad_ids() -> None:
    whole, a, b = ConfusionMatrix(N_CLASSES), ConfusionMatrix(N_CLASSES), ConfusionMatrix(N_CLASSES)
    for i, (pred, target) in enumerate(_random_batches(1)):
        whole.update(pred, target)
        (a if i % 2 else b).update(pred, target)
    np.testing.assert_array_equal(a.merge(b).numpy(), whole.numpy())
    with pytest.raises(ValueError, match="label id 7"):
        ConfusionMatrix(3).update(np.zeros((2, 2)), np.full((2, 2), 7))
    with pytest.raises(ValueError, match="shape"):
        ConfusionMatrix(3).update(np.zeros((2, 2)), np.zeros((2, 3)))


def test_dice_is_f1_and_both_ratios_match_their_formulas_bit_for_bit() -> None:
    from cvtool.classify.metrics import ClassificationMetrics
    from cvtool.core.confusion import class_scores

    rng = np.random.default_rng(1)
    cm = rng.integers(0, 10**9, size=(6, 6))
    cm[4] = 0
    cm[:, 4] = 0  # an absent class
    scores = scores_from_confusion(cm)
    tp = np.diag(cm).astype(np.float64)
    fp, fn = cm.sum(axis=0) - tp, cm.sum(axis=1) - tp
    dice = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros(6), where=(2 * tp + fp + fn) > 0)
    np.testing.assert_array_equal(scores.dice, np.where(scores.present, dice, np.nan))
    iou = np.divide(tp, tp + fp + fn, out=np.zeros(6), where=(tp + fp + fn) > 0)
    np.testing.assert_array_equal(scores.iou, np.where(scores.present, iou, np.nan))
    assert scores.dice is scores.f1
    classification = ClassificationMetrics(6)
    classification.confusion[:] = cm
    np.testing.assert_array_equal(classification.compute().f1, class_scores(cm).f1)
    np.testing.assert_array_equal(class_scores(cm).f1, dice)
