"""The bad-input corpus: small broken inputs made at test time, and the check every case makes.

A refusal is right when the command exits with the expected code, names the file (or the
option) at fault, prints no traceback and no "unexpected ...Error", and leaves every byte on
disk as it was: `disk_state` hashes a whole folder, hidden staging directories and lock files
included.
"""

from __future__ import annotations

import hashlib
import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tests.formats.prepare_helpers import CocoBuilder, box, rle, write_image


def disk_state(root: Path) -> dict[str, str]:
    """`{relative path: content hash or "dir"}` of everything under `root`."""
    if not root.exists():
        return {}
    state = {}
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        state[key] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return state


@dataclass
class Case:
    """One bad input: the command line, the exit code and what the message must name."""

    name: str
    args: list[Any]
    code: int
    names: list[str]


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail instead of hanging (a malformed RLE used to make pycocotools loop for ever)."""

    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def assert_refused(cli: Any, case: Case, root: Path, seconds: int = 60) -> str:
    """Run `case` and check the refusal (see the module docstring); returns stderr."""
    before = disk_state(root)
    with time_limit(seconds):
        result = cli(*case.args)
    err = result.stderr
    assert result.exit_code == case.code, f"{case.name}: exit {result.exit_code}\n{err}"
    for name in case.names:
        assert str(name) in err, f"{case.name}: {name!r} not in\n{err}"
    assert "Traceback" not in err and "unexpected" not in err, f"{case.name}:\n{err}"
    assert disk_state(root) == before, f"{case.name}: the files on disk changed"
    return err


def truncate(path: Path, keep: float = 0.6) -> Path:
    """Cut an image file short: its header still reads, its pixels do not decode."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def coco_raw(root: Path, extra_images: int = 3) -> CocoBuilder:
    """A valid tiny COCO set (person, car) under `root`; not yet written."""
    builder = CocoBuilder(root, {"person": 1, "car": 3, "dog": 18})
    first = builder.image("a.png")
    builder.ann(first, "person", rle(box(8, 10, 0, 5, 0, 6)))
    builder.ann(first, "car", rle(box(8, 10, 3, 8, 4, 10)))
    for i in range(extra_images):
        builder.ann(builder.image(f"m{i}.png"), "car", rle(box(8, 10, 1, 4, 1, 4)))
    return builder


def voc_pairs(root: Path, n: int = 3) -> Path:
    """`<n>_image.png` + `<n>_target.png` (palette indices 0, 1, 15) pairs."""
    rng = np.random.default_rng(0)
    for i in range(n):
        write_image(root / f"{i}_image.png", 6, 7, seed=i)
        target = rng.choice([0, 1, 15], (6, 7)).astype(np.uint8)
        Image.fromarray(target, mode="L").save(root / f"{i}_target.png")
    return root


def camvid_raw(root: Path) -> Path:
    """Kaggle-layout CamVid with two classes plus Void, one image per split."""
    (root).mkdir(parents=True)
    (root / "class_dict.csv").write_text(
        "name,r,g,b\nSky,128,128,128\nRoad,128,64,128\nVoid,0,0,0\n"
    )
    colours = np.array([(128, 128, 128), (128, 64, 128), (0, 0, 0)], dtype=np.uint8)
    for i, split in enumerate(("train", "val", "test")):
        write_image(root / split / f"s{i}.png", 6, 7, seed=i)
        (root / f"{split}_labels").mkdir()
        index = np.random.default_rng(i).integers(0, 3, (6, 7))
        Image.fromarray(colours[index]).save(root / f"{split}_labels" / f"s{i}_L.png")
    return root


def image_folder(root: Path, per_class: int = 4) -> Path:
    """`root/<class>/<image>.png` for classes a and b."""
    for label in ("a", "b"):
        for i in range(per_class):
            write_image(root / label / f"{label}{i}.png", 8, 8, seed=i)
    return root


def write_json(path: Path, obj: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))
    return path
