"""t-SNE of a classifier's penultimate-layer features over train and validation images.

Both splits go into one embedding (so their points share the coordinates); features wider than
50 dimensions are first reduced with PCA to 50, the usual preparation for t-SNE that keeps it
fast on 25,088-d convnet features. 500 iterations (sklearn's default is 1,000) halve the time,
most of it in 3-D, with the layout settled by then. t-SNE runs on one thread: on a 2-core
machine its OpenMP threads made 400 points take 26 s instead of 3.9 s (a few hundred points
gain nothing from threads). Deterministic for a given seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PCA_DIMS = 50
MIN_POINTS = 5
ITERATIONS = 500


@dataclass
class Embedding:
    """One row per image: its split, dataset path, class id, and 2-D and 3-D t-SNE coordinates."""

    splits: list[str]
    names: list[str]
    labels: np.ndarray
    xy: np.ndarray  # (N, 2)
    xyz: np.ndarray  # (N, 3)
    feature_dim: int


def perplexity_for(n: int) -> float:
    """sklearn's default 30, lowered for tiny sets (t-SNE needs perplexity < n)."""
    return float(min(30.0, max(1.0, (n - 1) / 3)))


def tsne(features: np.ndarray, dims: int, seed: int = 0, threads: int | None = 1) -> np.ndarray:
    """`(N, dims)` t-SNE coordinates of `(N, D)` features (PCA to 50-d first when wider);
    `threads=None` leaves sklearn's thread pools as they are."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    x = np.asarray(features, dtype=np.float32)
    if x.shape[0] < MIN_POINTS:
        raise ValueError(f"t-SNE needs at least {MIN_POINTS} points, got {x.shape[0]}")
    if x.shape[1] > PCA_DIMS:
        x = PCA(min(PCA_DIMS, x.shape[0]), random_state=seed).fit_transform(x)
    model = TSNE(
        n_components=dims,
        perplexity=perplexity_for(x.shape[0]),
        init="pca",
        learning_rate="auto",
        max_iter=ITERATIONS,
        random_state=seed,
    )
    with threadpool_limits(threads):
        return model.fit_transform(x).astype(np.float32)


def embed(
    splits: list[str],
    names: list[str],
    labels: np.ndarray,
    features: np.ndarray,
    seed: int = 0,
) -> Embedding:
    """2-D and 3-D t-SNE of the features of the given images."""
    xy, xyz = tsne(features, 2, seed), tsne(features, 3, seed)
    return Embedding(splits, names, np.asarray(labels), xy, xyz, int(features.shape[1]))
