"""Decoded-sample cache: the uint8 pixels of a split's images (and label masks), decoded once.

Decoding a PNG costs more than the whole augmentation of it, and an epoch decodes every image
again. With a cache, each image is decoded once (in parallel, with progress) into one flat
buffer, and loader workers read it without copying:

- `ram`: a buffer in memory for this run (shared memory when loader workers read it), refused
  when it would not fit in the available memory;
- `disk`: a memory-mapped file beside the prepared dataset (`DATA/.cache/<split>.u8` and its
  index `<split>.json`), kept between runs and rebuilt when the split's file list, a file's size
  or modification time, or the class set it was checked against changes.

Image `i` is `(H, W, 3)` RGB at `offsets[i]`, its mask `(H, W)` right after it.

>>> cache = open_cache("disk", root, "train", items, decode, key={"classes": 12})
>>> cache.image(0).shape, cache.mask(0).shape      # ((360, 480, 3), (360, 480))
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.artifacts import atomic_path, atomic_write_json
from cvtool.core.console import note, track
from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.core.images import open_image
from cvtool.core.parallel import parallel_map

CACHE_MODES = ("none", "ram", "disk")
CACHE_DIR = ".cache"
CACHE_FORMAT = 1
RAM_SHARE = 0.8  # the most of the available memory a ram cache may take
SHM = Path("/dev/shm")


@dataclass(frozen=True)
class CacheItem:
    """The files of one sample: its image and, for segmentation, its label mask."""

    image: Path
    mask: Path | None = None


Decode = Callable[[CacheItem], tuple[np.ndarray, np.ndarray | None]]


def check_cache_mode(mode: str) -> None:
    if mode not in CACHE_MODES:
        raise ParameterError(
            f"cache must be one of {', '.join(CACHE_MODES)}, got {mode!r}", "cache"
        )


def gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


class SampleCache:
    """The decoded samples of one split in one flat uint8 buffer (a shared tensor, an array,
    or a memory-mapped file opened lazily in each process)."""

    def __init__(
        self, shapes: np.ndarray, masks: bool, buffer: Any = None, path: Path | None = None
    ):
        self.shapes, self.masks = shapes, masks
        pixels = shapes[:, 0] * shapes[:, 1]
        self.sizes = pixels * (4 if masks else 3)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
        self._buffer, self.path = buffer, path

    def __len__(self) -> int:
        return len(self.shapes)

    @property
    def nbytes(self) -> int:
        return int(self.sizes.sum())

    def _array(self) -> np.ndarray:
        if self._buffer is None:  # copy-on-write: writable views, the file is never changed
            self._buffer = np.memmap(self.path, np.uint8, "c", shape=(self.nbytes,))
        return self._buffer if isinstance(self._buffer, np.ndarray) else self._buffer.numpy()

    def image(self, index: int) -> np.ndarray:
        h, w = self.shapes[index]
        start = self.offsets[index]
        return self._array()[start : start + h * w * 3].reshape(h, w, 3)

    def mask(self, index: int) -> np.ndarray | None:
        if not self.masks:
            return None
        h, w = self.shapes[index]
        start = self.offsets[index] + h * w * 3
        return self._array()[start : start + h * w].reshape(h, w)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if self.path is not None:
            state["_buffer"] = None  # each process maps the file itself
        return state


def _fingerprint(root: Path, items: Sequence[CacheItem]) -> list[list[Any]]:
    rows = []
    for item in items:
        for path in (item.image, item.mask):
            if path is not None:
                stat = path.stat()
                rows.append([os.path.relpath(path, root), stat.st_size, stat.st_mtime_ns])
    return rows


def _header_hw(path: Path) -> tuple[int, int]:
    """`(height, width)` from the file header (the pixels are decoded later, in workers)."""
    with open_image(path) as im:
        return im.height, im.width


def _read_index(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except (OSError, ValueError):
        return {}  # unreadable: stale


def _stale_reason(
    stored: dict[str, Any], key: dict[str, Any], files: list[list[Any]]
) -> str | None:
    """Why a stored index does not describe the split any more (None: it does)."""
    if stored.get("format") != CACHE_FORMAT or stored.get("key") != key:
        return "it was built by another version or for another class set"
    old = stored.get("files", [])
    if len(old) != len(files):
        return f"the split now has {len(files)} files (was {len(old)})"
    for before, now in zip(old, files, strict=True):
        if before != now:
            return f"{now[0]} changed since it was cached"
    return None


def _fill(target: np.ndarray, cache: SampleCache, items: Sequence[CacheItem], decode: Decode,
          workers: int | None, label: str) -> None:  # fmt: skip
    for i, (image, mask) in enumerate(parallel_map(decode, items, workers, label)):
        start, h, w = cache.offsets[i], *cache.shapes[i]
        if image.shape != (h, w, 3):
            raise CvtoolError(f"{items[i].image} changed while it was being cached; run again")
        target[start : start + h * w * 3] = image.ravel()
        if mask is not None:
            target[start + h * w * 3 : start + h * w * 4] = mask.ravel()


def _check_room(need: int, free: int, what: str, where: str, hint: str) -> None:
    if need > free:
        raise CvtoolError(f"{what} needs {gib(need)}, but only {gib(free)} {where}", hint, "cache")


def _disk_cache(cache: SampleCache, files: Path, index: dict[str, Any], fill: Callable) -> None:
    """Build the memory-mapped file and its index (atomically: a killed build leaves none)."""
    files.parent.mkdir(exist_ok=True)
    free = shutil.disk_usage(files.parent).free
    _check_room(
        cache.nbytes, free, f"cache='disk' for {len(cache)} images", f"is free in {files.parent}",
        "free some space, or use `cache` ram",
    )  # fmt: skip
    with atomic_path(files) as tmp:
        target = np.memmap(tmp, np.uint8, "w+", shape=(cache.nbytes,))
        fill(target)
        target.flush()
        del target
    atomic_write_json(files.with_suffix(".json"), index)


def _ram_buffer(cache: SampleCache, shared: bool, split: str) -> Any:
    """An empty buffer for the cache: a shared-memory tensor when loader workers read it."""
    import psutil

    what = f"cache='ram' for the {len(cache)} images of split {split!r}"
    available = int(psutil.virtual_memory().available * RAM_SHARE)
    _check_room(
        cache.nbytes, available, what,
        f"of memory can be spared ({RAM_SHARE:.0%} of what is available)",
        "use `cache` disk (a memory-mapped file, paged in as memory allows) or no cache",
    )  # fmt: skip
    if not shared:
        return np.empty(cache.nbytes, np.uint8)
    if SHM.is_dir():
        _check_room(
            cache.nbytes, shutil.disk_usage(SHM).free, f"{what} (shared with loader workers)",
            f"is free in {SHM}", "enlarge it (docker run --shm-size), or use `cache` disk",
        )  # fmt: skip
    import torch

    return torch.empty(cache.nbytes, dtype=torch.uint8).share_memory_()


def open_cache(
    mode: str,
    root: Path,
    split: str,
    items: Sequence[CacheItem],
    decode: Decode,
    key: dict[str, Any],
    workers: int | None = None,
    shared: bool = True,
) -> SampleCache | None:
    """The cache of `split` (`mode` `ram` or `disk`; None for `none`), built when needed.

    `decode(item)` (picklable, no torch: it runs in worker processes) returns the `(H, W, 3)`
    image and `(H, W)` mask of an item, checked; `key` is what else the cached contents depend
    on (e.g. the class count masks were checked against); `shared`: loader worker processes
    will read a `ram` cache."""
    check_cache_mode(mode)
    if mode == "none":
        return None
    root = Path(root)
    masks = bool(items) and items[0].mask is not None
    files = root / CACHE_DIR / f"{split}.u8"
    fingerprint = _fingerprint(root, items)
    stored = _read_index(files.with_suffix(".json"))
    reason = None if stored is None else _stale_reason(stored, key, fingerprint)
    if stored is not None and reason is None:
        shapes = np.array(stored["shapes"], dtype=np.int64).reshape(-1, 2)
    else:
        shapes = np.array([_header_hw(item.image) for item in items], dtype=np.int64)
        shapes = shapes.reshape(-1, 2)
    layout = SampleCache(shapes, masks)
    on_disk = reason is None and stored is not None and files.is_file()
    on_disk = on_disk and files.stat().st_size == layout.nbytes
    label = f"caching {split} ({gib(layout.nbytes)})"

    def fill(target: np.ndarray) -> None:
        _fill(target, layout, items, decode, workers, label)

    if mode == "disk" and not on_disk:
        if reason:
            note(f"the {split} cache in {files.parent} is stale ({reason}); rebuilding it")
        index = {"format": CACHE_FORMAT, "split": split, "key": key}
        index |= {"shapes": shapes.tolist(), "files": fingerprint}
        try:
            _disk_cache(layout, files, index, fill)
        except OSError as e:  # read-only dataset, a file in the way
            raise CvtoolError(
                f"cannot write the cache in {files.parent}: {e.strerror or e}",
                "use `cache` ram, or make the dataset dir writable",
                param="cache",
            ) from None
    if mode == "disk":
        return SampleCache(shapes, masks, path=files)
    buffer = _ram_buffer(layout, shared, split)
    target = buffer if isinstance(buffer, np.ndarray) else buffer.numpy()
    if on_disk:  # a valid disk cache: copy it instead of decoding again
        target[:] = np.memmap(files, np.uint8, "r", shape=(layout.nbytes,))
    else:
        fill(target)
    return SampleCache(shapes, masks, buffer)


def decoded_samples(
    mode: str,
    root: Path,
    name: str,
    items: Sequence[CacheItem],
    decode: Decode,
    key: dict[str, Any],
    workers: int | None,
    description: str,
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Each item's decoded sample, in order: read from the `mode` cache named `name`, or (with
    `none`) decoded in `workers` processes, streaming."""
    cache = open_cache(mode, root, name, items, decode, key, workers, shared=False)
    if cache is None:
        yield from parallel_map(decode, items, workers, description)
        return
    for i in track(range(len(cache)), description):
        yield cache.image(i), cache.mask(i)
