"""A few validation images with their labels and predicted masks, as one picture per epoch
(what the TensorBoard logger shows beside the curves)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cvtool.core.palette import class_colors, colorize
from cvtool.engine.setup import RunSetup

SAMPLES = 4


def _pixels(image: torch.Tensor, mean: Any, std: Any) -> np.ndarray:
    """A normalised `(3, H, W)` image back to `(H, W, 3)` uint8."""
    mean_t = torch.tensor(mean).view(3, 1, 1)
    std_t = torch.tensor(std).view(3, 1, 1)
    rgb = (image.cpu() * std_t + mean_t).clamp(0, 1) * 255
    return rgb.round().byte().permute(1, 2, 0).numpy()


@torch.no_grad()
def prediction_grid(run: RunSetup, count: int = SAMPLES) -> np.ndarray:
    """`(count * H, 3 * W, 3)` uint8: per row a validation image, its label mask and the
    model's prediction, in the class colours (the first `count` images, the same every epoch)."""
    colors = class_colors(run.dataset.classes)
    pairs = [run.val_ds[i] for i in range(min(count, len(run.val_ds)))]
    images = torch.stack([image for image, _ in pairs]).to(run.device)
    was_training = run.model.training
    run.model.eval()
    predicted = run.model(images).argmax(1).cpu().numpy().astype(np.uint8)
    run.model.train(was_training)
    cfg = run.cfg
    rows = []
    for (image, label), pred in zip(pairs, predicted, strict=True):
        truth = colorize(label.numpy().astype(np.uint8), colors)
        picture = _pixels(image, cfg.mean, cfg.std)
        rows.append(np.concatenate([picture, truth, colorize(pred, colors)], axis=1))
    return np.concatenate(rows, axis=0)
