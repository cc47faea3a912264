"""Checks of COCO segmentations before pycocotools sees them.

pycocotools trusts its input: a cut run-length encoding decodes to a partial mask without a
word, and a compressed string outside its alphabet can make the decoder read past the end of
the string or run for ever. Every segmentation is therefore checked here first, in Python:

- polygons: lists of an even number of finite numbers;
- uncompressed RLE (`counts` a list): non-negative integer runs that sum to `height * width`;
- compressed RLE (`counts` a string): characters in pycocotools' alphabet (`0`..`o`, ASCII
  48..111), a last character that ends its number, no negative run, and runs that sum to
  `height * width`.
"""

from __future__ import annotations

import math
from typing import Any

from cvtool.core.errors import CvtoolError

Segmentation = list[list[float]] | dict[str, Any]
_FIRST, _LAST = 48, 111  # pycocotools writes each 5-bit group as chr(48 + bits)
_MORE, _SIGN = 0x20, 0x10


def compressed_runs(counts: str) -> list[int]:
    """The runs of a compressed COCO RLE string, decoded as pycocotools' `rleFrString` does
    (5 bits per character, continuation bit 0x20, sign bit 0x10, runs after the second stored
    as differences); ValueError when the string is not a valid encoding."""
    runs: list[int] = []
    value = shift = 0
    for position, char in enumerate(counts):
        code = ord(char) - _FIRST
        if not 0 <= code <= _LAST - _FIRST:
            raise ValueError(f"character {char!r} at {position} is not in the RLE alphabet")
        value |= (code & 0x1F) << shift
        shift += 5
        if code & _MORE:
            continue
        if code & _SIGN:
            value -= 1 << shift
        if len(runs) > 2:
            value += runs[-2]
        if value < 0:
            raise ValueError(f"run {len(runs) + 1} is negative")
        runs.append(value)
        value = shift = 0
    if shift:
        raise ValueError("it ends inside a number (cut short)")
    return runs


def _check_runs(counts: Any, pixels: int) -> None:
    if isinstance(counts, bytes):
        counts = counts.decode("ascii", errors="replace")
    if isinstance(counts, str):
        runs = compressed_runs(counts)
    elif isinstance(counts, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in counts
    ):
        runs = counts
    else:
        raise ValueError("counts must be a string or a list of non-negative integers")
    if sum(runs) != pixels:
        raise ValueError(f"its runs cover {sum(runs)} pixels, not height x width = {pixels}")


def check_segmentation(seg: Any, height: int, width: int, where: str) -> Segmentation | None:
    """`seg` with polygons under 3 points dropped (None if nothing is left), or a CvtoolError
    naming `where` when it is malformed.

    pycocotools reads a 4-number polygon as a box and rejects shorter ones, so they are
    removed here rather than mis-rasterised.
    """
    if isinstance(seg, list):
        if not all(isinstance(p, list) and len(p) % 2 == 0 for p in seg):
            raise CvtoolError(f"{where}: polygons must be lists of x,y pairs")
        try:
            polygons = [[float(v) for v in p] for p in seg if len(p) >= 6]
        except (TypeError, ValueError):
            raise CvtoolError(f"{where}: a polygon holds a value that is not a number") from None
        if not all(math.isfinite(v) for p in polygons for v in p):
            raise CvtoolError(f"{where}: a polygon holds a value that is not finite")
        return polygons or None
    if isinstance(seg, dict) and "counts" in seg and "size" in seg:
        size = seg["size"]
        if not (isinstance(size, list) and [type(v) for v in size] == [int, int]):
            raise CvtoolError(f"{where}: RLE size {size!r} is not [height, width]")
        if size != [height, width]:
            raise CvtoolError(
                f"{where}: RLE size {size} does not match the image size [{height}, {width}]"
            )
        try:
            _check_runs(seg["counts"], height * width)
        except ValueError as e:
            raise CvtoolError(f"{where}: malformed RLE counts: {e}") from None
        return seg
    raise CvtoolError(f"{where}: segmentation is neither polygons nor RLE")
