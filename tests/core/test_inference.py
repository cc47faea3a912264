"""predict_batches: consecutive equal shapes share a batch, order is kept, no autograd."""

from __future__ import annotations

import torch

from cvtool.core.inference import Inference, predict_batches


class _Sum(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.scale).sum(dim=(1, 2, 3)).half()


def test_batches_follow_shapes_groups_and_size() -> None:
    shapes = [(4, 4), (4, 4), (4, 4), (5, 4), (5, 4), (4, 4)]
    groups = ["a", "a", "a", "a", "b", "b"]
    samples = list(enumerate(zip(shapes, groups, strict=True)))
    run = Inference(batch_size=2, device=torch.device("cpu"))

    def tensor(sample):
        return torch.full((1, *sample[1][0]), float(sample[0]))

    batches = list(predict_batches(_Sum(), samples, tensor, run, group=lambda s: s[1][1]))
    assert [[s[0] for s in group] for group, _ in batches] == [[0, 1], [2], [3], [4], [5]]
    for group, out in batches:
        assert out.dtype == torch.float32 and not out.requires_grad
        h, w = group[0][1][0]
        assert out.tolist() == [float(s[0] * h * w) for s in group]
