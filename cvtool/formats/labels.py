"""Label images (RGB colour-coded or index/palette PNGs) -> class-index masks, vectorised.

RGB colours are packed into 24-bit keys and looked up in a 2^24-entry table (built once per
process), so decoding costs a few array operations per image, never a per-pixel loop. Values
that match no class become `IGNORE_INDEX` and are counted, so a prepare run can report them.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cvtool.core.artifacts import IGNORE_INDEX, RGB
from cvtool.core.errors import CvtoolError
from cvtool.core.images import check_same_size, decoded_size, load_pixels
from cvtool.core.parallel import parallel_map
from cvtool.formats.layout import write_sample

UNKNOWN = 256  # table value for a colour/index that belongs to no class


def pack_rgb(rgb: np.ndarray) -> np.ndarray:
    """`(..., 3)` uint8 -> `(...)` uint32 keys `r << 16 | g << 8 | b`."""
    rgb = rgb.astype(np.uint32, copy=False)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def unpack_rgb(key: int) -> RGB:
    return (key >> 16) & 255, (key >> 8) & 255, key & 255


@functools.lru_cache(maxsize=2)
def _colour_table(colors: tuple[RGB, ...], values: tuple[int, ...]) -> np.ndarray:
    table = np.full(1 << 24, UNKNOWN, dtype=np.uint16)
    table[pack_rgb(np.array(colors, dtype=np.uint8).reshape(-1, 3))] = values
    return table


@dataclass
class Decoded:
    mask: np.ndarray  # (H, W) uint8
    unknown_pixels: int = 0
    unknown_values: Counter[str] = field(default_factory=Counter)  # "r,g,b" or "index N"


@dataclass(frozen=True)
class LabelDecoder:
    """Maps label colours (`colors[i]` -> `values[i]`) and raw indices (`index_map[v]`) to
    class ids or `IGNORE_INDEX`; anything unmapped is unknown and becomes `IGNORE_INDEX`."""

    colors: tuple[RGB, ...]
    values: tuple[int, ...]
    index_map: tuple[int, ...] | None = None  # 256 entries, UNKNOWN where unmapped

    def __post_init__(self) -> None:
        keys = [tuple(c) for c in self.colors]
        if len(set(keys)) != len(keys):
            dup = next(c for c in keys if keys.count(c) > 1)
            raise CvtoolError(f"colour {dup} is assigned to more than one class")

    def decode_rgb(self, rgb: np.ndarray) -> Decoded:
        table = _colour_table(self.colors, self.values)
        keys = pack_rgb(rgb)
        return self._finish(table[keys], keys, lambda k: "{},{},{}".format(*unpack_rgb(int(k))))

    def decode_index(self, raw: np.ndarray) -> Decoded:
        if self.index_map is None:
            raise CvtoolError("index label images are not accepted for this dataset")
        table = np.asarray(self.index_map, dtype=np.uint16)
        return self._finish(table[raw], raw, lambda v: f"index {int(v)}")

    @staticmethod
    def _finish(mapped: np.ndarray, raw: np.ndarray, name: Callable[[int], str]) -> Decoded:
        unknown = mapped == UNKNOWN
        n_unknown = int(unknown.sum())
        if not n_unknown:
            return Decoded(mapped.astype(np.uint8))
        mapped[unknown] = IGNORE_INDEX
        values, counts = np.unique(raw[unknown], return_counts=True)
        seen = Counter({name(v): int(c) for v, c in zip(values, counts, strict=True)})
        return Decoded(mapped.astype(np.uint8), n_unknown, seen)

    def decode_file(self, path: str | Path) -> Decoded:
        """Decode by the file's mode: RGB(A) via colours, palette/greyscale via indices."""
        with load_pixels(path, "label image") as im:
            if im.mode in ("RGB", "RGBA"):
                return self.decode_rgb(np.asarray(im.convert("RGB")))
            if im.mode in ("P", "L"):
                try:
                    return self.decode_index(np.asarray(im))
                except CvtoolError as e:
                    raise CvtoolError(f"label image {path}: {e.message}") from None
            raise CvtoolError(
                f"label image {path} has mode {im.mode!r}; expected RGB colours or 8-bit indices"
            )


@dataclass(frozen=True)
class Pair:
    """An image, its label file, and the file name it gets under `images/`."""

    image: str
    label: str
    name: str


def _prepare_pair(
    pair: Pair, out_dir: str, decoder: LabelDecoder, colors: np.ndarray, ignore_color: RGB
) -> tuple[np.ndarray, int, Counter[str]]:
    decoded = decoder.decode_file(pair.label)
    check_same_size(
        pair.label, decoded.mask.shape, pair.image, decoded_size(pair.image)[::-1], "label"
    )
    counts = write_sample(
        Path(out_dir), Path(pair.image), pair.name, decoded.mask, colors, ignore_color
    )
    return counts, decoded.unknown_pixels, decoded.unknown_values


@dataclass
class PairStats:
    counts: dict[str, np.ndarray]  # image name -> pixel counts per mask value
    unknown_pixels: int
    images_with_unknown: int
    unknown_values: Counter[str]

    def report(self, top: int = 10) -> dict[str, object]:
        """Unknown-value provenance for `dataset.json`."""
        return {
            "unknown_pixels": self.unknown_pixels,
            "images_with_unknown": self.images_with_unknown,
            "most_common_unknown": dict(self.unknown_values.most_common(top)),
        }


def write_pairs(
    out_dir: Path,
    pairs: Sequence[Pair],
    decoder: LabelDecoder,
    colors: np.ndarray,
    ignore_color: RGB,
    workers: int | None,
    description: str,
) -> PairStats:
    """Decode every label and write the samples in parallel; gather counts and unknowns."""
    work = functools.partial(
        _prepare_pair,
        out_dir=str(out_dir),
        decoder=decoder,
        colors=colors,
        ignore_color=ignore_color,
    )
    stats = PairStats({}, 0, 0, Counter())
    results = parallel_map(work, pairs, workers, description)
    for pair, (counts, unknown, values) in zip(pairs, results, strict=True):
        stats.counts[pair.name] = counts
        stats.unknown_pixels += unknown
        stats.images_with_unknown += unknown > 0
        stats.unknown_values.update(values)
    return stats
