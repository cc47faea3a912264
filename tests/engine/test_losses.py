"""Losses, mixup, class weights and oversampling against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cvtool.core.errors import CvtoolError
from cvtool.engine.class_weights import balanced_weights, median_frequency_weights
from cvtool.engine.losses import build_loss
from cvtool.engine.mixup import mixed_loss, mixup
from cvtool.engine.sampling import EpochSampler, ShardSampler, oversample_weights

# Two classes, three pixels (N=1, H=1, W=3); the last pixel is ignored.
LOGITS = torch.tensor([[[[2.0, 0.0, 5.0]], [[0.0, 1.0, -5.0]]]])
TARGET = torch.tensor([[[0, 1, 255]]])
P0 = 1 / (1 + math.exp(-2))  # softmax prob of class 0 at pixel 0 (its target)
P1 = 1 / (1 + math.exp(-1))  # softmax prob of class 1 at pixel 1 (its target)


def test_cross_entropy_ignores_255() -> None:
    loss = build_loss("ce", 2)(LOGITS, TARGET)
    assert loss.item() == pytest.approx(-(math.log(P0) + math.log(P1)) / 2)


def test_weighted_cross_entropy() -> None:
    loss = build_loss("ce", 2, class_weights=[1.0, 3.0])(LOGITS, TARGET)
    assert loss.item() == pytest.approx(-(1 * math.log(P0) + 3 * math.log(P1)) / 4)


def test_label_smoothing() -> None:
    eps = 0.2
    loss = build_loss("ce", 2, label_smoothing=eps)(LOGITS, TARGET)
    lp = F.log_softmax(LOGITS, 1)[0, :, 0, :2]  # (class, pixel)
    per_pixel = [-(1 - eps) * lp[t, i] - eps / 2 * lp[:, i].sum() for i, t in enumerate([0, 1])]
    assert loss.item() == pytest.approx(float(sum(per_pixel) / 2), rel=1e-6)


def test_focal_loss_hand_value_and_gamma_zero_is_ce() -> None:
    focal = build_loss("focal", 2, focal_gamma=2.0)(LOGITS, TARGET)
    expected = -((1 - P0) ** 2 * math.log(P0) + (1 - P1) ** 2 * math.log(P1)) / 2
    assert focal.item() == pytest.approx(expected, rel=1e-6)
    for weights in (None, [0.5, 2.0]):
        f0 = build_loss("focal", 2, class_weights=weights, focal_gamma=0.0)(LOGITS, TARGET)
        ce = build_loss("ce", 2, class_weights=weights)(LOGITS, TARGET)
        assert f0.item() == pytest.approx(ce.item(), rel=1e-6)


def test_dice_loss_hand_value() -> None:
    loss = build_loss("dice", 2)(LOGITS, TARGET)
    # class 0: prediction mass P0 + (1 - P1) over the two labelled pixels, one true pixel
    d0 = (2 * P0 + 1) / (P0 + (1 - P1) + 1 + 1)
    d1 = (2 * P1 + 1) / ((1 - P0) + P1 + 1 + 1)
    assert loss.item() == pytest.approx(1 - (d0 + d1) / 2, rel=1e-6)


def test_ce_plus_dice_is_the_sum() -> None:
    total = build_loss("ce+dice", 2)(LOGITS, TARGET)
    parts = build_loss("ce", 2)(LOGITS, TARGET) + build_loss("dice", 2)(LOGITS, TARGET)
    assert total.item() == pytest.approx(parts.item())


def test_bce_on_two_class_logits_equals_ce() -> None:
    bce = build_loss("bce", 2)(LOGITS, TARGET)
    assert bce.item() == pytest.approx(build_loss("ce", 2)(LOGITS, TARGET).item(), rel=1e-6)
    with pytest.raises(CvtoolError, match="binary"):
        build_loss("bce", 3)


def test_losses_work_for_classification_targets() -> None:
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    target = torch.tensor([0, 1])
    assert build_loss("focal", 2, focal_gamma=0.0)(logits, target).item() == pytest.approx(
        F.cross_entropy(logits, target).item()
    )


def test_bad_loss_options() -> None:
    with pytest.raises(CvtoolError, match="3 class weights given for 2 classes"):
        build_loss("ce", 2, class_weights=[1, 2, 3])
    with pytest.raises(CvtoolError, match="unknown loss"):
        build_loss("hinge", 2)


def test_mixup_mixes_inputs_and_loss() -> None:
    x = torch.arange(3, dtype=torch.float).reshape(3, 1, 1, 1)
    y = torch.tensor([0, 1, 2])
    batch = mixup(x, y, alpha=0.4, rng=np.random.default_rng(7))
    ref = np.random.default_rng(7)
    lam = ref.beta(0.4, 0.4)
    perm = ref.permutation(3)
    assert batch.lam == pytest.approx(lam)
    torch.testing.assert_close(
        batch.inputs.flatten(),
        torch.tensor(lam * np.arange(3) + (1 - lam) * perm, dtype=torch.float),
    )
    assert batch.targets_b.tolist() == perm.tolist()
    logits = torch.randn(3, 3)
    expected = lam * F.cross_entropy(logits, y) + (1 - lam) * F.cross_entropy(logits, y[perm])
    loss = mixed_loss(torch.nn.CrossEntropyLoss(), logits, batch)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_median_frequency_weights() -> None:
    # class 0: 50 px in images totalling 100 px -> f=0.5; class 1: 10/40 -> 0.25;
    # class 2: 30/40 -> 0.75; class 3 never seen. median f = 0.5
    weights = median_frequency_weights([50, 10, 30, 0], [100, 40, 40, 0])
    assert weights == pytest.approx([1.0, 2.0, 2 / 3, 0.0])


def test_balanced_weights_match_sklearn() -> None:
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.array([0, 0, 0, 1, 2, 2])
    expected = compute_class_weight("balanced", classes=np.arange(3), y=labels)
    assert balanced_weights(np.bincount(labels)) == pytest.approx(expected.tolist())


def test_oversample_weights() -> None:
    present = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 1], [0, 0, 0]], bool)
    # f = [3/4, 1/4, 1/4]; image weight = max 1/f over its classes, 1 when unlabelled
    assert oversample_weights(present).tolist() == pytest.approx([4 / 3, 4, 4, 1])


def test_epoch_sampler_is_per_epoch_deterministic_and_sharded() -> None:
    a = EpochSampler(7, seed=3)
    a.set_epoch(2)
    first = list(a)
    assert sorted(first) == list(range(7))
    a.set_epoch(5)
    a.set_epoch(2)
    assert list(a) == first
    shards = [EpochSampler(7, seed=3, rank=r, world_size=2) for r in range(2)]
    for s in shards:
        s.set_epoch(2)
    assert [len(s) for s in shards] == [4, 4]
    merged = [i for pair in zip(*shards, strict=True) for i in pair]
    assert merged[:7] == first and merged[7] == first[0]
    weighted = EpochSampler(5, seed=0, weights=np.array([0, 0, 1.0, 0, 0]))
    assert list(weighted) == [2] * 5
    assert [list(ShardSampler(5, r, 2)) for r in range(2)] == [[0, 2, 4], [1, 3]]
