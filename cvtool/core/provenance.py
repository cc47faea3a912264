"""Who made an artifact, when, and with what: the same fields in every manifest.

>>> atomic_write_json(out / "run.json", {"weights": str(weights), **provenance("torch")})
"""

from __future__ import annotations

import platform
import shlex
import sys
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from cvtool import __version__


def invocation() -> str:
    """The command line of this process, shell-quoted."""
    argv = [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv else []
    return shlex.join(argv)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def versions(*packages: str) -> dict[str, str | None]:
    """cvtool's and Python's versions, and those of the named installed distributions (None
    when one is not installed); read from the package metadata, so nothing gets imported."""
    found: dict[str, str | None] = {"cvtool": __version__, "python": platform.python_version()}
    for name in packages:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def provenance(*packages: str) -> dict[str, Any]:
    """`{"command", "created", "versions"}` for a manifest; `packages` are the libraries whose
    versions decide its numbers (e.g. "torch", "pycocotools")."""
    return {"command": invocation(), "created": utc_now(), "versions": versions(*packages)}
