"""Human output goes to stderr (Rich); stdout is reserved for the artifact path or JSON.

Two rules keep that output useful in logs:
- when stderr is not a terminal (a CI log, `2> file`), the console is wide, so tables are never
  squeezed to 80 columns and no number is cut to `0.042…`;
- text that comes from the user or the data (paths, class names, hints with brackets) is printed
  literally: pass it through `literal()` or the `info`/`warn`/`note`/`error` helpers, never as
  Rich markup.

Library functions print through this console; `quiet()` silences it for Python callers.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

T = TypeVar("T")

LOG_WIDTH = 400  # columns when stderr is not a terminal: wide enough for every table we print


def _make_console() -> Console:
    terminal = sys.stderr.isatty()
    return Console(stderr=True, highlight=False, width=None if terminal else LOG_WIDTH)


console = _make_console()


def literal(text: object, style: str = "") -> Text:
    """`text` as a Rich `Text` that is shown exactly as written (no markup, no emoji codes)."""
    return Text(str(text), style=style)


def _labelled(label: str, style: str, message: object) -> None:
    console.print(Text.assemble((label, style), str(message)), soft_wrap=True)


def info(message: object) -> None:
    """A plain progress line, printed literally."""
    console.print(literal(message), soft_wrap=True)


def warn(message: object) -> None:
    """`warning: MESSAGE` in yellow, the message printed literally."""
    _labelled("warning: ", "yellow", message)


def note(message: object) -> None:
    """`note: MESSAGE`, dimmed, the message printed literally."""
    _labelled("note: ", "dim", message)


def error(message: object, hint: object | None = None) -> None:
    """`error: MESSAGE` and, when given, `hint: HINT`; both printed literally."""
    _labelled("error: ", "bold red", message)
    if hint:
        _labelled("hint: ", "yellow", hint)


@contextmanager
def quiet(enabled: bool = True) -> Iterator[None]:
    """Silence the console (progress bars and tables) inside the block when `enabled`."""
    before = console.quiet
    console.quiet = enabled or before
    try:
        yield
    finally:
        console.quiet = before


def make_progress(transient: bool = False) -> Progress:
    """A Rich progress bar on stderr with count, elapsed and remaining time."""
    return Progress(
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}", markup=False),
        console=console,
        transient=transient,
    )


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar on stderr."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with make_progress() as progress:
        task = progress.add_task(description, total=total, status="")
        for item in items:
            yield item
            progress.advance(task)
