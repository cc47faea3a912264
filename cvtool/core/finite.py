"""NaN and Inf in weights and model outputs: found, counted and described.

A diverged training run leaves weights that hold NaN or Inf, and any number computed from such
a model is meaningless; finite weights can still overflow to non-finite outputs. Training stops
on the first (`cvtool.engine.divergence`), loading a checkpoint refuses it
(`cvtool.engine.checkpoint`), and evaluation counts the second and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

NAMES_SHOWN = 3  # tensor names quoted in a message


def nonfinite_tensors(state: Mapping[str, Any]) -> list[str]:
    """The names of the floating-point tensors of `state` (a state dict: parameters and
    buffers) holding NaN or Inf, in order; one device sync for all of them."""
    import torch

    names = [k for k, v in state.items() if torch.is_tensor(v) and v.is_floating_point()]
    if not names:
        return []
    flags = torch.stack([torch.isfinite(state[k]).all().cpu() for k in names])
    return [name for name, ok in zip(names, flags.tolist(), strict=True) if not ok]


def describe_tensors(bad: list[str], total: int) -> str:
    """`2 of 40 tensors (enc.0.weight, enc.1.running_var)`, at most `NAMES_SHOWN` named."""
    shown = ", ".join(bad[:NAMES_SHOWN]) + (", ..." if len(bad) > NAMES_SHOWN else "")
    return f"{len(bad)} of {total} tensors ({shown})"


@dataclass
class NonFiniteOutputs:
    """Counts the images (and, for dense outputs, the pixels) whose model outputs hold NaN or
    Inf, and replaces those values so the evaluation can go on: NaN by 0, +-Inf by the largest
    finite float32 of that sign (`torch.nan_to_num`)."""

    dense: bool = False  # outputs (B, C, H, W): pixels are counted too
    images: int = 0
    pixels: int = 0

    def clean(self, logits: Any) -> Any:
        """`logits` (B, C, ...) with their non-finite values counted and replaced."""
        import torch

        bad = ~torch.isfinite(logits).all(dim=1)  # (B, ...): a position with any bad class
        if not bool(bad.any()):
            return logits
        self.images += int(bad.reshape(len(bad), -1).any(dim=1).sum())
        self.pixels += int(bad.sum()) if self.dense else 0
        return torch.nan_to_num(logits)

    def to_dict(self) -> dict[str, int]:
        """What `metrics.json` records as `nonfinite_outputs` (pixels for dense outputs)."""
        counts = {"images": self.images}
        if self.dense:
            counts["pixels"] = self.pixels
        return counts


def nonfinite_warnings(context: Mapping[str, Any], images: int) -> list[str]:
    """The eval dir's warning about the counts `context["nonfinite_outputs"]`
    (`NonFiniteOutputs.to_dict()`) over `images` evaluated; none when every output was finite
    or nothing was counted."""
    counts = context.get("nonfinite_outputs")
    if not isinstance(counts, Mapping) or not counts.get("images"):
        return []
    where = f"{counts['images']} of {images} image(s)"
    if counts.get("pixels"):
        where = f"{counts['pixels']} pixel(s) in {where}"
    return [
        f"the model's outputs hold NaN or Inf for {where}: they were scored as if NaN were 0 "
        "and Inf the largest finite value, so the metrics do not describe a working model (did "
        "its training diverge?)"
    ]
