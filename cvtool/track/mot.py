"""MOTChallenge IO: sequences (`seqinfo.ini`), det/gt/result text files, and result writing.

Every MOT text file is loaded into one float64 array with ten columns
`frame, id, x, y, w, h, conf, c7, c8, c9` (boxes top-left x/y, width, height in pixels),
sorted by frame (stable) so a frame's rows are one contiguous slice. Ground truth uses
`c7 = class` and `c8 = visibility`, and column 6 is the "consider" flag (0 = ignore).
"""

from __future__ import annotations

import configparser
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cvtool.core.artifacts import atomic_write_text
from cvtool.core.console import note
from cvtool.core.errors import CvtoolError
from cvtool.core.outputs import visible

MOT_COLUMNS = 10
FRAME, ID, X, Y, W, H, CONF = range(7)
GT_CLASS, GT_VISIBILITY = 7, 8
IMAGE_EXTS = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class SeqInfo:
    """One MOTChallenge sequence: `length` frames numbered 1..length."""

    name: str
    path: Path
    length: int
    frame_rate: float
    width: int | None = None
    height: int | None = None
    im_dir: str = "img1"
    im_ext: str = ".jpg"

    def frame_path(self, frame: int) -> Path:
        return self.path / self.im_dir / f"{frame:06d}{self.im_ext}"

    def available_frames(self) -> list[int]:
        """Frame numbers whose image exists in `im_dir` (MOT names them `000001.jpg`...)."""
        folder = self.path / self.im_dir
        if not folder.is_dir():
            return []
        frames = [int(p.stem) for p in folder.glob(f"*{self.im_ext}") if p.stem.isdigit()]
        return sorted(f for f in frames if 1 <= f <= self.length)

    @property
    def det_path(self) -> Path:
        return self.path / "det" / "det.txt"

    @property
    def gt_path(self) -> Path:
        return self.path / "gt" / "gt.txt"


def read_mot_txt(
    path: Path, what: str = "MOT file", min_columns: int = 7, length: int | None = None
) -> np.ndarray:
    """Load a MOT text file as an (N, 10) float64 array sorted by frame.

    Files with 7 to 9 columns (MOT15-style detections `frame,id,x,y,w,h,conf`) are padded with
    -1. An empty file gives zero rows. Raises a CvtoolError naming the file for anything that is
    not comma-separated numbers, too few columns, negative sizes or frames outside 1..length.
    """
    path = Path(path)
    if not path.is_file():
        raise CvtoolError(f"{what} not found: {path}")
    text = path.read_text(errors="replace")
    if not text.strip():
        return np.empty((0, MOT_COLUMNS))
    try:
        rows = np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2, dtype=np.float64)
    except ValueError as e:
        raise CvtoolError(
            f"{what} {path} is not MOTChallenge CSV ({e})",
            "each line must be comma-separated numbers: frame,id,x,y,w,h,conf,...",
        ) from None
    if rows.shape[1] < min_columns:
        raise CvtoolError(
            f"{what} {path} has {rows.shape[1]} columns; at least {min_columns} are needed",
            "expected frame,id,x,y,w,h,conf[,class,visibility] per line",
        )
    if rows.shape[1] < MOT_COLUMNS:
        pad = np.full((len(rows), MOT_COLUMNS - rows.shape[1]), -1.0)
        rows = np.hstack([rows, pad])
    rows = rows[:, :MOT_COLUMNS]
    _check_rows(rows, path, what, length)
    order = np.argsort(rows[:, FRAME], kind="stable")
    return rows[order]


def _check_rows(rows: np.ndarray, path: Path, what: str, length: int | None) -> None:
    bad = np.flatnonzero((rows[:, W] < 0) | (rows[:, H] < 0) | ~np.isfinite(rows[:, :CONF]).all(1))
    if bad.size:
        line, box = int(bad[0]) + 1, rows[bad[0], X : H + 1].tolist()
        raise CvtoolError(
            f"{what} {path} line {line}: negative or non-finite box {box} ({bad.size} such rows)",
            "widths and heights must be >= 0",
        )
    frames = rows[:, FRAME]
    high = length if length is not None else np.inf
    bad = np.flatnonzero((frames < 1) | (frames > high) | (frames != np.round(frames)))
    if bad.size:
        line = int(bad[0]) + 1
        limit = f"1..{length}" if length is not None else "integers >= 1"
        raise CvtoolError(
            f"{what} {path} line {line}: frame {frames[bad[0]]:g} is outside {limit}",
            "frame numbers start at 1 and must not exceed seqLength in seqinfo.ini",
        )


def frame_offsets(rows: np.ndarray, length: int) -> np.ndarray:
    """`offsets[t-1]:offsets[t]` are the rows of frame t (rows sorted by frame)."""
    return np.searchsorted(rows[:, FRAME], np.arange(1, length + 2), side="left")


def format_results(rows: np.ndarray) -> str:
    """MOTChallenge result lines `frame,id,x,y,w,h,conf,-1,-1,-1`."""
    buffer = io.StringIO()
    out = np.empty((len(rows), MOT_COLUMNS))
    out[:, :7] = rows[:, :7]
    out[:, 7:] = -1
    np.savetxt(
        buffer,
        out,
        fmt=["%d", "%d", "%.2f", "%.2f", "%.2f", "%.2f", "%.4g", "%d", "%d", "%d"],
        delimiter=",",
    )
    return buffer.getvalue()


def write_results(path: Path, rows: np.ndarray) -> Path:
    """Write tracker output (N, >=7 columns) atomically, sorted by frame then id."""
    order = np.lexsort((rows[:, ID], rows[:, FRAME]))
    atomic_write_text(path, format_results(rows[order]))
    return path


# --------------------------------------------------------------------------- sequences
def read_seqinfo(seq_dir: Path) -> SeqInfo:
    """Parse `seqinfo.ini`; without one, derive what the folder allows and say what is missing.

    Without the file the length comes from the images or the det/gt files, the size from the
    first image, and the frame rate defaults to 30 (it cannot be derived).
    """
    seq_dir = Path(seq_dir)
    ini = seq_dir / "seqinfo.ini"
    if ini.is_file():
        parser = configparser.ConfigParser()
        try:
            parser.read(ini)
            sec = parser["Sequence"]
            return SeqInfo(
                name=sec.get("name", seq_dir.name),
                path=seq_dir,
                length=int(sec["seqLength"]),
                frame_rate=float(sec.get("frameRate", "30")),
                width=int(sec["imWidth"]) if "imWidth" in sec else None,
                height=int(sec["imHeight"]) if "imHeight" in sec else None,
                im_dir=sec.get("imDir", "img1"),
                im_ext=sec.get("imExt", ".jpg"),
            )
        except (configparser.Error, KeyError, ValueError) as e:
            raise CvtoolError(
                f"{ini} is not a valid seqinfo.ini ({type(e).__name__}: {e})",
                "it needs a [Sequence] section with at least seqLength",
            ) from None
    return _derive_seqinfo(seq_dir)


def _derive_seqinfo(seq_dir: Path) -> SeqInfo:
    images = sorted(
        p
        for p in (seq_dir / "img1").glob("*")
        if p.suffix.lower() in IMAGE_EXTS and p.stem.isdigit()
    )
    last_frames = [int(images[-1].stem)] if images else []
    for txt in (seq_dir / "det" / "det.txt", seq_dir / "gt" / "gt.txt"):
        if txt.is_file():
            rows = read_mot_txt(txt, "MOT file", min_columns=6)
            if len(rows):
                last_frames.append(int(rows[:, FRAME].max()))
    if not last_frames:
        raise CvtoolError(
            f"{seq_dir}: no seqinfo.ini, and no img1/ frames or det/gt files to derive the "
            "sequence length from",
            "add seqinfo.ini with [Sequence] seqLength, frameRate, imWidth, imHeight",
        )
    width = height = None
    if images:
        from PIL import Image

        with Image.open(images[0]) as im:
            width, height = im.size
    note(
        f"{seq_dir} has no seqinfo.ini: {max(last_frames)} frames derived from "
        "its frames and det/gt files, frame rate assumed 30"
    )
    return SeqInfo(
        name=seq_dir.name,
        path=seq_dir,
        length=max(last_frames),
        frame_rate=30.0,
        width=width,
        height=height,
        im_ext=images[0].suffix if images else ".jpg",
    )


def is_sequence_dir(path: Path) -> bool:
    return path.is_dir() and any(
        (path / name).exists() for name in ("seqinfo.ini", "det", "gt", "img1")
    )


def find_sequences(root: Path, names: list[str] | None = None) -> list[SeqInfo]:
    """The sequences under `root` (sorted), or the named ones; unknown names list the valid."""
    root = Path(root)
    if not root.is_dir():
        raise CvtoolError(f"MOT root {root} does not exist or is not a directory")
    available = [p.name for p in visible(root) if is_sequence_dir(p)]
    if not available:
        raise CvtoolError(
            f"{root} holds no MOTChallenge sequences (folders with seqinfo.ini, det/, gt/ or img1/)"
        )
    if names:
        unknown = [n for n in names if n not in available]
        if unknown:
            raise CvtoolError(
                f"sequence(s) {', '.join(unknown)} not found in {root}",
                f"available: {', '.join(available)}",
            )
        available = list(dict.fromkeys(names))
    return [read_seqinfo(root / n) for n in available]
