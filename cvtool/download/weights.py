"""`download_weights`: pretrained weights into the caches the libraries already read.

- Ultralytics YOLO (`yolov8n.pt` ...): into `ultralytics.utils.SETTINGS["weights_dir"]`, where
  `YOLO("yolov8n.pt")` looks when the file is not in the current directory.
- torchvision (`resnet50`, `ResNet50_Weights.IMAGENET1K_V1`, ...): into
  `torch.hub.get_dir()/checkpoints/`, where `weights.get_state_dict()` looks first; the sha256
  prefix in torchvision's file name is verified, as `torch.hub` does.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cvtool.core.console import info, make_progress
from cvtool.core.errors import CvtoolError
from cvtool.download.catalogue import (
    YOLO_WEIGHTS,
    Checksum,
    Source,
    mib,
    mirror_base,
    resolve_url,
)
from cvtool.download.fetch import FetchResult, fetch

_HASH_IN_NAME = re.compile(r"-([a-f0-9]{8,})\.")  # torch.hub's convention


@dataclass(frozen=True)
class WeightsTarget:
    name: str
    library: str  # "ultralytics" | "torchvision"
    source: Source
    cache_dir: Path


def _is_checkpoint_zip(path: Path) -> str | None:
    if not zipfile.is_zipfile(path):
        return "not a PyTorch checkpoint (zip) file"
    return None


def _yolo_name(name: str) -> str | None:
    candidate = name if name.endswith(".pt") else f"{name}.pt"
    return candidate if candidate in YOLO_WEIGHTS else None


def torchvision_source(name: str) -> Source:
    """The official URL of torchvision weights `name` (a model name for its default weights, or
    a weights enum such as `ResNet50_Weights.IMAGENET1K_V1`), with the sha256 prefix from the
    file name as the checksum."""
    from torchvision import models

    try:
        weights = models.get_weight(name) if "." in name else models.get_model_weights(name).DEFAULT
    except (KeyError, ValueError, AttributeError):
        yolo = ", ".join(YOLO_WEIGHTS)
        raise CvtoolError(
            f"unknown weights {name!r}",
            f"use a YOLO file ({yolo}), a torchvision model name (e.g. resnet50, "
            "deeplabv3_resnet50) or a torchvision weights enum "
            "(e.g. ResNet50_Weights.IMAGENET1K_V2)",
        ) from None
    match = _HASH_IN_NAME.search(weights.url.rsplit("/", 1)[-1])
    checksum = (
        Checksum("sha256", match.group(1), "torchvision (sha256 prefix in the file name)")
        if match
        else None
    )
    return Source(weights.url, checksum=checksum)


def resolve_weights(name: str, to: Path | None = None) -> WeightsTarget:
    """Which file `name` means and the cache directory it belongs in (`to` overrides it)."""
    yolo = _yolo_name(name)
    if yolo is not None:
        if to is None:
            from cvtool.core.ultralytics_env import import_ultralytics

            to = Path(import_ultralytics().utils.SETTINGS["weights_dir"])
        return WeightsTarget(yolo, "ultralytics", YOLO_WEIGHTS[yolo], Path(to))
    source = torchvision_source(name)
    if to is None:
        import torch.hub

        to = Path(torch.hub.get_dir()) / "checkpoints"
    return WeightsTarget(name, "torchvision", source, Path(to))


def download_weights(
    name: str,
    *,
    out: Path | None = None,
    mirror: str | None = None,
    timeout: float = 15.0,
    retries: int = 2,
) -> tuple[WeightsTarget, FetchResult]:
    """Download weights `name` into the library's cache (or `out`); returns where it went."""
    target = resolve_weights(name, out)
    url = resolve_url(target.source.url, mirror_base(mirror))
    validate = _is_checkpoint_zip if target.library == "ultralytics" else None
    with make_progress() as progress:
        result = fetch(
            target.source,
            target.cache_dir / target.source.filename,
            url,
            timeout=timeout,
            retries=retries,
            progress=progress,
            validate=validate,
        )
    state = "already present" if result.skipped else f"{mib(result.fetched_bytes)} fetched"
    info(f"{target.name} ({target.library}): {result.path} ({state})")
    return target, result
