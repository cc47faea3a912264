"""Penultimate features (shapes, hook) and t-SNE on a tiny set."""

from __future__ import annotations

import numpy as np
import pytest

from cvtool.classify.embedding import embed, perplexity_for, tsne
from cvtool.classify.inference import penultimate_layer


def _features(model, size: int):
    import torch

    captured = []
    hook = penultimate_layer(model).register_forward_pre_hook(
        lambda _m, args: captured.append(args[0])
    )
    with torch.no_grad():
        logits = model(torch.randn(2, 3, size, size))
    hook.remove()
    return captured[0], logits


def test_convnet_penultimate_is_flattened_128x14x14_at_224() -> None:
    from cvtool.classify.models import ConvNet

    model = ConvNet(num_classes=4).eval()
    features, logits = _features(model, 224)
    assert tuple(features.shape) == (2, 128 * 14 * 14)
    assert tuple(logits.shape) == (2, 4)
    assert tuple(model.features(features.new_zeros(1, 3, 224, 224)).shape) == (1, 128, 14, 14)


def test_resnet18_penultimate_is_the_pooled_512_vector() -> None:
    from cvtool.classify.models import build_resnet18

    model = build_resnet18(3, pretrained=False).eval()
    features, logits = _features(model, 64)
    assert tuple(features.shape) == (2, 512) and tuple(logits.shape) == (2, 3)


def test_tsne_runs_on_a_tiny_set_and_separates_clusters() -> None:
    rng = np.random.default_rng(0)
    centers = rng.normal(0, 10, (3, 80))  # wider than 50-d: PCA first
    labels = np.repeat(np.arange(3), 6)
    features = centers[labels] + rng.normal(0, 0.5, (18, 80))
    emb = embed(["train"] * 12 + ["val"] * 6, [f"{i}" for i in range(18)], labels, features)
    assert emb.xy.shape == (18, 2) and emb.xyz.shape == (18, 3) and emb.feature_dim == 80
    assert np.isfinite(emb.xy).all() and np.isfinite(emb.xyz).all()
    # each point's nearest neighbour in 2-D is of its own class
    d = np.linalg.norm(emb.xy[:, None] - emb.xy[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    assert (labels[d.argmin(1)] == labels).all()
    again = tsne(features, 2)
    np.testing.assert_allclose(again, emb.xy)  # deterministic


def test_tsne_refuses_too_few_points_and_adapts_perplexity() -> None:
    with pytest.raises(ValueError, match="at least 5"):
        tsne(np.zeros((4, 3)), 2)
    assert perplexity_for(10) == 3.0 and perplexity_for(1000) == 30.0
