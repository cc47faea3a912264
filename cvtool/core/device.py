"""One resolver for every `device` parameter: `auto|cpu|cuda|cuda:N|mps`."""

from __future__ import annotations

from typing import Any

from cvtool.core.errors import ParameterError

DEVICE_HELP = "auto (CUDA, else MPS, else CPU), cpu, cuda, cuda:N or mps"


def available_devices() -> list[str]:
    """The device names this machine can run on, CPU first."""
    import torch

    names = ["cpu"]
    if torch.cuda.is_available():
        names += ["cuda", *(f"cuda:{i}" for i in range(torch.cuda.device_count()))]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        names.append("mps")
    return names


def resolve_device(device: str | None = "auto", local_rank: int = 0) -> Any:
    """`device` as a `torch.device`; `auto` (or None) picks CUDA, then MPS, then CPU.

    Under `torchrun`, plain `cuda` means `cuda:LOCAL_RANK`. A device this machine does not have
    raises `ParameterError` naming the parameter and listing the devices it does have.
    """
    import torch

    available = available_devices()
    name = (device or "auto").strip().lower()
    if name == "auto":
        name = "cuda" if "cuda" in available else "mps" if "mps" in available else "cpu"
    if name == "cuda":
        name = f"cuda:{local_rank}"
    try:
        chosen = torch.device(name)
    except (RuntimeError, ValueError):
        chosen = None
    if chosen is None or chosen.type not in ("cpu", "cuda", "mps"):
        raise ParameterError(f"device {device!r} is not a device name; use {DEVICE_HELP}", "device")
    usable = (
        chosen.type == "cpu"
        or (chosen.type == "mps" and "mps" in available)
        or (chosen.type == "cuda" and f"cuda:{chosen.index or 0}" in available)
    )
    if not usable:
        raise ParameterError(
            f"device {device!r} is not available here; available: {', '.join(available)}", "device"
        )
    return chosen
