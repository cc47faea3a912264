"""Conventions shared by every command: stdout contract, `--json`, `--debug`, exit codes.

A command function decorated with `@stage_command(app)` returns a `CommandResult`; the wrapper
prints the artifact path as the last stdout line (or a JSON summary with `--json`), turns a
`CvtoolError` into a one-paragraph message and exit code 1, and shows tracebacks only with
`--debug`. Usage errors (bad options) keep Typer's exit code 2.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer

from cvtool.core.console import console, error
from cvtool.core.errors import CvtoolError


@dataclass
class CommandResult:
    """What a command wrote: `path` goes to stdout, `summary` is the `--json` payload."""

    path: Path | None
    summary: dict[str, Any] = field(default_factory=dict)


def report_error(message: str, hint: str | None = None) -> None:
    error(message, hint)


def _emit(result: CommandResult | None, as_json: bool) -> None:
    if result is None:
        return
    if as_json:
        payload = {"path": str(result.path) if result.path else None, **result.summary}
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    elif result.path is not None:
        sys.stdout.write(f"{result.path}\n")
    sys.stdout.flush()


def stage_command(app: typer.Typer, name: str | None = None, **kwargs: Any) -> Callable:
    """Register `fn` on `app` with the shared `--json` and `--debug` options and error handling."""

    def decorator(fn: Callable[..., CommandResult | None]) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, json_output: bool = False, debug: bool = False, **kw: Any) -> None:
            try:
                result = fn(*args, **kw)
            except CvtoolError as e:
                if debug:
                    console.print_exception()
                report_error(e.message, e.hint)
                raise typer.Exit(1) from None
            except KeyboardInterrupt:
                report_error("interrupted; nothing half-written was kept")
                raise typer.Exit(130) from None
            except (typer.Exit, typer.Abort, typer.BadParameter):
                raise
            except Exception as e:
                if debug:
                    console.print_exception()
                report_error(
                    f"unexpected {type(e).__name__}: {e}",
                    None if debug else "re-run with --debug for the full traceback",
                )
                raise typer.Exit(1) from None
            _emit(result, json_output)

        # Typer reads option declarations from parameter defaults.
        extra = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=typer.Option(False, flag, help=text),
                annotation=bool,
            )
            for name, flag, text in (
                ("json_output", "--json", "Print a JSON summary on stdout."),
                ("debug", "--debug", "Show full tracebacks on errors."),
            )
        ]
        signature = inspect.signature(fn)
        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*signature.parameters.values(), *extra]
        )
        return app.command(name, **kwargs)(wrapper)

    return decorator


def parse_csv_list(value: str | None) -> list[str]:
    """`"a,b, c"` -> `["a", "b", "c"]` (empty items dropped)."""
    if not value:
        return []
    return [v.strip() for v in value.split(",") if v.strip()]


def parse_fractions(value: str, count: int, option: str) -> tuple[float, ...]:
    """Parse `"0.7,0.15,0.15"` into `count` non-negative floats summing to 1."""
    try:
        parts = tuple(float(v) for v in value.split(","))
    except ValueError:
        raise typer.BadParameter(f"{option} expects {count} comma-separated numbers") from None
    if len(parts) != count or any(p < 0 for p in parts) or abs(sum(parts) - 1) > 1e-6:
        raise typer.BadParameter(
            f"{option} expects {count} non-negative fractions summing to 1, got {value!r}"
        )
    return parts
