"""Run `cvtool ARGS...` with one function replaced by a hang in worker processes.

    python stuck_worker.py PID_DIR MODULE:ATTR deaf|quiet ARGS...

In the main process the function runs as usual. In a worker it records the worker's pid as a
file in PID_DIR and never returns, as a worker stuck in native code would (an endless loop
inside a C library): Ctrl-C never reaches it (SIGINT blocked), nor, when `deaf`, SIGTERM, so
only SIGKILL stops it. `quiet` leaves SIGTERM deliverable (torch's DataLoader workers exit on
their parent's SIGTERM from a C handler, which runs inside native code too).
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

MAIN_PID = os.getpid()
PID_DIR = Path(sys.argv[1])
MODULE, _, ATTR = sys.argv[2].partition(":")
BLOCKED = {signal.SIGINT, signal.SIGTERM} if sys.argv[3] == "deaf" else {signal.SIGINT}
owner: Any = importlib.import_module(MODULE)
*path, NAME = ATTR.split(".")
for part in path:
    owner = getattr(owner, part)
original = getattr(owner, NAME)


def stuck(*args: Any, **kwargs: Any) -> Any:
    """Module level, so that a process pool can pickle it (by name: `__main__.stuck`)."""
    if os.getpid() == MAIN_PID:
        return original(*args, **kwargs)
    signal.pthread_sigmask(signal.SIG_BLOCK, BLOCKED)
    (PID_DIR / str(os.getpid())).touch()
    while True:
        time.sleep(0.05)


if __name__ == "__main__":
    setattr(owner, NAME, stuck)
    sys.argv = ["cvtool", *sys.argv[4:]]
    from cvtool.cli.main import main

    main()
