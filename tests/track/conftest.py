"""Tiny MOTChallenge folders built from arrays."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

MOT17 = "mot17/train"


def _csv(rows: np.ndarray | list) -> str:
    rows = np.asarray(rows, dtype=float).reshape(len(rows), -1) if len(rows) else np.empty((0, 0))
    return "".join(",".join(f"{v:g}" for v in row) + "\n" for row in rows)


def write_sequence(
    root: Path,
    name: str,
    length: int,
    gt: list | np.ndarray | None = None,
    det: list | np.ndarray | None = None,
    seqinfo: bool = True,
    frame_rate: int = 30,
) -> Path:
    """`root/name/` with seqinfo.ini, gt/gt.txt and det/det.txt from row lists."""
    seq = root / name
    seq.mkdir(parents=True, exist_ok=True)
    if seqinfo:
        (seq / "seqinfo.ini").write_text(
            f"[Sequence]\nname={name}\nimDir=img1\nframeRate={frame_rate}\nseqLength={length}\n"
            "imWidth=200\nimHeight=100\nimExt=.jpg\n"
        )
    if gt is not None:
        (seq / "gt").mkdir(exist_ok=True)
        (seq / "gt" / "gt.txt").write_text(_csv(gt))
    if det is not None:
        (seq / "det").mkdir(exist_ok=True)
        (seq / "det" / "det.txt").write_text(_csv(det))
    return seq


@pytest.fixture
def make_sequence(tmp_path: Path) -> Callable[..., Path]:
    def make(name: str = "SEQ-01", length: int = 4, **kw) -> Path:
        return write_sequence(tmp_path / "mot", name, length, **kw)

    return make


@pytest.fixture
def write_mot() -> Callable[..., Path]:
    """`write_mot(root, name, length, gt=..., det=...)`: a sequence folder from row lists."""
    return write_sequence


@pytest.fixture
def mot17(shared_data: Path) -> Path:
    root = shared_data / MOT17
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    return root
