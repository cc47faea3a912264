"""Matplotlib on servers: the Agg backend, and PNGs written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cvtool.core.artifacts import atomic_path


def pyplot() -> Any:
    """`matplotlib.pyplot` with the display-free Agg backend (imported lazily: it is slow)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | Path, dpi: int = 110) -> Path:
    """Write `fig` as PNG to `path` atomically and close it."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    pyplot().close(fig)
    return path
