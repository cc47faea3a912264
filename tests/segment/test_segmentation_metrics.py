"""SegmentationEvaluator against sklearn, torchmetrics and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, confusion_matrix
from torchmetrics.classification import MulticlassCalibrationError

from cvtool.core.errors import CvtoolError
from cvtool.segment.metrics import (
    SegmentationEvaluator,
    average_precision_from_histograms,
    iou_histogram,
    per_image_iou,
)

N = 4


def _batches(seed: int, count: int = 3, shape: tuple[int, int] = (19, 23)):
    """Random logits that are partly right, labels with ~10 % ignore pixels."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        target = torch.from_numpy(rng.integers(0, N, size=(2, *shape)))
        logits = torch.from_numpy(rng.normal(size=(2, N, *shape))).float()
        logits += 2.5 * torch.nn.functional.one_hot(target, N).permute(0, 3, 1, 2)
        target[torch.from_numpy(rng.random(target.shape) < 0.1)] = 255
        yield target, logits.softmax(1)


def _flat(batches):
    targets = torch.cat([t.reshape(-1) for t, _ in batches])
    probs = torch.cat([p.permute(0, 2, 3, 1).reshape(-1, N) for _, p in batches])
    keep = targets != 255
    return targets[keep].numpy(), probs[keep].numpy()


def test_confusion_ap_and_calibration_match_oracles() -> None:
    batches = list(_batches(0))
    ev = SegmentationEvaluator(N)
    for target, probs in batches:
        ev.update(target, probs=probs)
    report = ev.compute()
    target, probs = _flat(batches)
    pred = probs.argmax(1)
    np.testing.assert_array_equal(
        report.scores.confusion, confusion_matrix(target, pred, labels=range(N))
    )
    for c in range(N):
        expected = average_precision_score(target == c, probs[:, c])
        assert report.average_precision[c] == pytest.approx(expected, abs=5e-4)
    for norm, value in (("l1", report.calibration.ece), ("max", report.calibration.mce)):
        oracle = MulticlassCalibrationError(N, n_bins=15, norm=norm)
        assert value == pytest.approx(oracle(torch.from_numpy(probs), torch.from_numpy(target)))
    assert report.images == 6 and report.image_iou_histogram.sum() == 6


def test_average_precision_is_exact_on_scores_at_bin_resolution() -> None:
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 50, 500) / 50  # 50 distinct values, many ties
    labels = rng.random(500) < scores
    bins = np.rint(scores * 50).astype(int).clip(0, 49)
    pos = np.bincount(bins[labels], minlength=50)
    neg = np.bincount(bins[~labels], minlength=50)
    assert average_precision_from_histograms(pos, neg) == pytest.approx(
        average_precision_score(labels, scores), abs=1e-12
    )
    assert np.isnan(average_precision_from_histograms(np.zeros(5), np.ones(5)))


def test_hand_computed_per_image_iou_and_histograms() -> None:
    # image 0: classes 0 and 1, IoU 1/2 and 2/3; class 2 absent -> mean 7/12
    # image 1: all pixels ignored -> NaN, kept out of the histogram
    target = torch.tensor([[[0, 0, 1, 1]], [[255, 255, 255, 255]]])
    pred = torch.tensor([[[0, 1, 1, 1]], [[2, 2, 2, 2]]])
    ev = SegmentationEvaluator(3, with_scores=False)
    ious = ev.update(target, pred=pred)
    assert ious[0] == pytest.approx(7 / 12) and np.isnan(ious[1])
    report = ev.compute()
    assert report.image_iou_histogram.tolist() == [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    assert report.images == 2 and report.images_without_labels == 1
    assert report.average_precision is None and report.calibration is None
    assert np.isnan(report.scores.iou[2])  # absent, not 0
    assert iou_histogram(np.array([0.0, 0.05, 0.1, 0.95, 1.0, np.nan])).tolist() == [
        2, 1, 0, 0, 0, 0, 0, 0, 0, 2
    ]  # fmt: skip
    counts = np.array([[[2, 0], [0, 0]]])
    assert per_image_iou(counts).tolist() == [1.0]


def test_shards_merge_to_single_pass(tmp_path) -> None:
    whole, a, b = SegmentationEvaluator(N), SegmentationEvaluator(N), SegmentationEvaluator(N)
    for i, (target, probs) in enumerate(_batches(1, count=4)):
        whole.update(target, probs=probs)
        (a if i % 2 else b).update(target, probs=probs)
    a.save(tmp_path / "a.npz")
    b.save(tmp_path / "b.npz")
    merged = SegmentationEvaluator.load(tmp_path / "a.npz").merge(
        SegmentationEvaluator.load(tmp_path / "b.npz")
    )
    one, two = whole.compute(), merged.compute()
    np.testing.assert_array_equal(one.scores.confusion, two.scores.confusion)
    np.testing.assert_allclose(one.average_precision, two.average_precision)
    assert one.calibration.ece == pytest.approx(two.calibration.ece, abs=1e-12)
    np.testing.assert_array_equal(one.image_iou_histogram, two.image_iou_histogram)
    assert two.images == 8
    with pytest.raises(ValueError, match="cannot merge"):
        merged.merge(SegmentationEvaluator(N + 1))


def test_calibrated_shards_merge_raw_and_calibrated(tmp_path) -> None:
    made = [SegmentationEvaluator(N, with_raw=True) for _ in range(3)]
    whole, a, b = made
    for i, (target, probs) in enumerate(_batches(1, count=4)):
        raw = probs.square() / probs.square().sum(dim=1, keepdim=True)  # a sharper raw model
        whole.update(target, probs=probs, raw_probs=raw)
        (a if i % 2 else b).update(target, probs=probs, raw_probs=raw)
    a.save(tmp_path / "a.npz")
    b.save(tmp_path / "b.npz")
    merged = SegmentationEvaluator.load(tmp_path / "a.npz").merge(
        SegmentationEvaluator.load(tmp_path / "b.npz")
    )
    one, two = whole.compute(), merged.compute()
    assert two.raw_calibration.summary() == pytest.approx(one.raw_calibration.summary())
    assert two.calibration.summary() == pytest.approx(one.calibration.summary())
    assert one.raw_calibration.nll != pytest.approx(one.calibration.nll)
    with pytest.raises(ValueError, match="cannot merge"):
        merged.merge(SegmentationEvaluator(N))
    with pytest.raises(ValueError, match="raw_probs go with an evaluator made with_raw"):
        SegmentationEvaluator(N).update(*next(iter(_batches(1))), raw_probs=probs)


def test_unreadable_state_names_the_file(tmp_path) -> None:
    bad = tmp_path / "state.npz"
    bad.write_text("not a zip")
    with pytest.raises(CvtoolError, match=r"state\.npz is not a readable evaluation state"):
        SegmentationEvaluator.load(bad)
    with pytest.raises(CvtoolError, match="not found"):
        SegmentationEvaluator.load(tmp_path / "missing.npz")


def test_update_rejects_wrong_probability_shape() -> None:
    with pytest.raises(ValueError, match="not \\(B, 4, H, W\\)"):
        SegmentationEvaluator(N).update(torch.zeros(1, 2, 2), probs=torch.zeros(1, 3, 2, 2))


def test_per_image_counts_match_sklearn_per_image() -> None:
    from cvtool.core.confusion import ConfusionMatrix

    target, probs = next(_batches(4))
    pred = probs.argmax(1)
    cm = ConfusionMatrix(N)
    counts = cm.update_per_image(pred, target).numpy()
    for i in range(len(target)):
        keep = target[i].numpy().ravel() != 255
        expected = confusion_matrix(
            target[i].numpy().ravel()[keep], pred[i].numpy().ravel()[keep], labels=range(N)
        )
        np.testing.assert_array_equal(counts[i], expected)
    np.testing.assert_array_equal(cm.numpy(), counts.sum(0))


def test_half_precision_probabilities_give_the_same_confusion() -> None:
    target, probs = next(_batches(5))
    full, half = SegmentationEvaluator(N), SegmentationEvaluator(N)
    full.update(target, probs=probs)
    half.update(target, probs=probs.half(), pred=probs.argmax(1))
    np.testing.assert_array_equal(full.compute().scores.confusion, half.compute().scores.confusion)
    assert half.compute().calibration.ece == pytest.approx(full.compute().calibration.ece, abs=1e-3)
