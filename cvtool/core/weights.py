"""Pretrained weights: local files, the download caches, and a fast failure when offline.

Downloads go through the libraries' own paths (torch.hub, the Hugging Face hub), but only after
a 5-second connection check, so an offline machine gets a clear error at once instead of minutes
of retries.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from cvtool.core.errors import CvtoolError

OFFLINE_HINT = (
    "train from scratch (`pretrained=False`), or give `weights`: a local copy of the weights file"
)


def require_online(host: str, weights_name: str) -> None:
    """Raise a CvtoolError naming the weights if `host` cannot be reached within 5 s."""
    try:
        socket.create_connection((host, 443), timeout=5).close()
    except OSError as e:
        raise CvtoolError(
            f"cannot download the pretrained weights {weights_name} from {host} ({e})",
            OFFLINE_HINT,
        ) from None


def unreadable_torch_file(path: Path, error: Exception, what: str) -> CvtoolError:
    """The error for a file `torch.load(weights_only=True)` refused or could not read.

    torch's own message advises loading with `weights_only=False`; it is never passed on, since
    unpickling an untrusted file can run any code in it.
    """
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    found = re.search(r"GLOBAL ([\w.]+)", text)
    if found:
        return CvtoolError(
            f"{what} {path} holds pickled Python objects (such as {found.group(1)}), not only "
            "tensors; cvtool does not load those, since unpickling a file can run any code in it",
            "use a checkpoint written by `cvtool train`, or save a plain state dict "
            "(torch.save(model.state_dict(), path)) or a .safetensors file",
        )
    if "WeightsUnpickler error:" in text:
        text = text.split("WeightsUnpickler error:", 1)[1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return CvtoolError(
        f"{what} {path} is corrupt or not a PyTorch file "
        f"({lines[0] if lines else type(error).__name__})"
    )


def load_weights_file(path: str | Path) -> dict[str, Any]:
    """A state dict from a `.pth`/`.pt` (torch) or `.safetensors` file, with clear errors."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise CvtoolError(f"weights file not found: {path}", OFFLINE_HINT, param="weights")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise unreadable_torch_file(path, e, "weights file") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise CvtoolError(f"weights file {path} does not hold a state dict")
    return state


def torchvision_state_dict(url: str) -> dict[str, Any]:
    """The state dict torchvision publishes at `url` (torch.hub cache first, then download)."""
    import torch

    file_name = Path(urlparse(url).path).name
    cached = Path(torch.hub.get_dir()) / "checkpoints" / file_name
    if not cached.is_file():
        require_online(urlparse(url).hostname or url, file_name)
    return torch.hub.load_state_dict_from_url(url, map_location="cpu", progress=False)


def load_into(module: Any, state: dict[str, Any], source: str, allow_missing: tuple = ()) -> None:
    """Load `state` into `module`, ignoring unexpected keys (e.g. a dropped classifier) but
    failing clearly when weights the module needs are absent or have the wrong shape."""
    own = module.state_dict()
    usable = {k: v for k, v in state.items() if k in own}
    shapes = [k for k, v in usable.items() if tuple(v.shape) != tuple(own[k].shape)]
    missing = [k for k in own if k not in usable and not k.startswith(allow_missing)]
    if shapes or missing or not usable:
        bad = (shapes or missing or ["(no matching keys)"])[:3]
        raise CvtoolError(
            f"weights {source} do not fit this model: {len(shapes)} shape mismatches, "
            f"{len(missing)} missing tensors (e.g. {', '.join(bad)})",
            "use the weights file of this model's backbone (ImageNet weights), or train from "
            "scratch (`pretrained=False`)",
        )
    module.load_state_dict(usable, strict=False)


def load_backbone(backbone: Any, pretrained: bool, weights: str | Path | None, url: str) -> None:
    """Load ImageNet weights into `backbone`: the local file `weights` if given, else (when
    `pretrained`) torchvision's file at `url`."""
    if weights is not None:
        load_into(backbone, load_weights_file(weights), str(weights))
    elif pretrained:
        load_into(backbone, torchvision_state_dict(url), Path(urlparse(url).path).name)
