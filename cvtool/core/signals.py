"""SIGINT and SIGTERM: a terminated command unwinds like an interrupted one, and worker
processes leave both to their parent.

- The command line turns SIGTERM into `Terminated`, a `KeyboardInterrupt` raised wherever the
  main thread is, so `kill PID` cleans up exactly as Ctrl-C does: staging directories removed,
  locks released, the previous output untouched (exit code 143 instead of 130).
- Ctrl-C reaches every process of the terminal's process group, workers included. Workers
  ignore it: the parent reports it, once, and stops them (`cvtool.core.workers`).
- Workers are started with both signals held (`held_signals`) and release them only once they
  have set up their own handling (`worker_signals`): none of them is interrupted half-started.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

HELD = (signal.SIGINT, signal.SIGTERM)

_owner: int | None = None  # the process that installed the SIGTERM handler


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that the command unwinds as on Ctrl-C."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    del frame
    if os.getpid() != _owner:  # a forked child that has not set up its own handling yet
        os._exit(128 + signum)
    raise Terminated()


def raise_on_sigterm() -> None:
    """Make SIGTERM raise `Terminated` (call it from the main thread)."""
    global _owner
    _owner = os.getpid()
    signal.signal(signal.SIGTERM, _on_sigterm)


@contextmanager
def held_signals() -> Iterator[None]:
    """SIGINT and SIGTERM held (blocked) in this thread: processes started inside inherit the
    mask. Signals that arrive meanwhile are delivered when the block ends."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def worker_signals(default_sigterm: bool = True) -> None:
    """A worker's handling: ignore SIGINT; with `default_sigterm`, SIGTERM ends the process
    at once, even inside native code (a Python handler inherited from the parent would only
    run between bytecodes, and raise there). Then release what `held_signals` held."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if default_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD)
