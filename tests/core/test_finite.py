"""Finding NaN and Inf in state dicts and model outputs."""

from __future__ import annotations

import torch

from cvtool.core.finite import (
    NonFiniteOutputs,
    describe_tensors,
    nonfinite_tensors,
    nonfinite_warnings,
)


def test_nonfinite_tensors_names_floating_tensors_in_order() -> None:
    state = {
        "a.weight": torch.ones(2),
        "a.running_var": torch.tensor([1.0, float("inf")]),
        "a.num_batches_tracked": torch.tensor(3),  # integers cannot be NaN
        "b.weight": torch.tensor([[float("nan")]], dtype=torch.float16),
    }
    assert nonfinite_tensors(state) == ["a.running_var", "b.weight"]
    assert nonfinite_tensors({"n": torch.tensor(1)}) == []
    names = [f"t{i}" for i in range(5)]
    assert describe_tensors(names, 9) == "5 of 9 tensors (t0, t1, t2, ...)"
    assert describe_tensors(names[:1], 9) == "1 of 9 tensors (t0)"


def test_outputs_are_counted_and_replaced() -> None:
    outputs = NonFiniteOutputs(dense=True)
    logits = torch.zeros(3, 2, 2, 2)
    logits[0, 1, 0, 0] = float("nan")
    logits[0, 0, 1, 1] = float("inf")
    logits[2, 0, 0, 1] = -float("inf")
    clean = outputs.clean(logits)
    assert torch.isfinite(clean).all() and clean[0, 1, 0, 0] == 0
    assert clean[0, 0, 1, 1] == torch.finfo(torch.float32).max
    assert outputs.clean(torch.zeros(1, 2, 2, 2)).eq(0).all()  # finite: unchanged
    assert outputs.to_dict() == {"images": 2, "pixels": 3}
    (text,) = nonfinite_warnings({"nonfinite_outputs": outputs.to_dict()}, 4)
    assert "NaN or Inf for 3 pixel(s) in 2 of 4 image(s)" in text
    classes = NonFiniteOutputs()
    classes.clean(torch.tensor([[0.0, float("nan")], [1.0, 2.0]]))
    assert classes.to_dict() == {"images": 1}
    assert nonfinite_warnings({"nonfinite_outputs": {"images": 0}}, 4) == []
    assert nonfinite_warnings({}, 4) == []
