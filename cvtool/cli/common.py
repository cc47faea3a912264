"""Conventions shared by every command: stdout contract, `--json`, `--debug`, exit codes, and
the option vocabulary.

A command function decorated with `@stage_command(app)` returns a `CommandResult`; the wrapper
prints the artifact path as the last stdout line (or a JSON summary with `--json`), turns a
`CvtoolError` into a one-paragraph message, and shows tracebacks only with `--debug`. Exit codes:
1 for a data or runtime problem, 2 for a usage error (Typer's own, and `ParameterError`), 130
for Ctrl-C and 143 for SIGTERM (`cvtool.core.signals`), after which nothing half-written is kept.

Library errors name Python parameters, never CLI flags: `CvtoolError.param` becomes a
`--flag: ` prefix, and a parameter quoted in a message or hint (`` `overwrite=True` ``) is
spelled as the command's option (`--overwrite`).
"""

from __future__ import annotations

import errno
import functools
import inspect
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer

from cvtool.core.console import console, error
from cvtool.core.device import DEVICE_HELP
from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.core.signals import Terminated

EXIT_ERROR = 1  # a data or runtime problem
EXIT_USAGE = 2  # an option value that cannot work (Typer's own code for usage errors)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_TERMINATED = 143  # SIGTERM (128 + SIGTERM)
NOTHING_KEPT = "nothing half-written was kept"

# `name`, `name=True` or `name=False` quoted in a library message: a reference to a parameter.
_PARAM_REF = re.compile(r"`([a-z][a-z0-9_]*)(?:=(True|False))?`")


@dataclass
class CommandResult:
    """What a command wrote: `path` goes to stdout, `summary` is the `--json` payload."""

    path: Path | None
    summary: dict[str, Any] = field(default_factory=dict)


def report_error(message: str, hint: str | None = None) -> None:
    error(message, hint)


def _spellings(ctx: typer.Context | None) -> dict[str, Any]:
    """The options and arguments of the running command, by Python parameter name."""
    return {p.name: p for p in ctx.command.params if p.name} if ctx else {}


def cli_name(param: str, declared: Any = None, value: str | None = None) -> str:
    """How a command spells parameter `param`, given its `declared` option or argument: the
    option (`batch_size` -> `--batch-size`; `value="False"` -> the `--no-...` form) or the
    argument's metavar. Without a declaration, the option spelling by convention."""
    if declared is not None and declared.param_type_name == "argument":
        return str(declared.metavar or declared.name.upper())
    if declared is not None and declared.param_type_name == "option":
        if value == "False" and declared.secondary_opts:
            return declared.secondary_opts[0]
        return max(declared.opts, key=len)
    return "--" + param.lstrip("-").replace("_", "-")


def cli_text(text: str, spellings: dict[str, Any]) -> str:
    """`text` with each quoted parameter of the command spelled as its option."""

    def spell(match: re.Match[str]) -> str:
        name, value = match.groups()
        declared = spellings.get(name)
        negatable = declared is not None and bool(getattr(declared, "secondary_opts", None))
        if declared is None or (value == "False" and not negatable):
            return match.group(0)
        return cli_name(name, declared, value)

    return _PARAM_REF.sub(spell, text)


def report_cvtool_error(e: CvtoolError, ctx: typer.Context | None = None) -> int:
    """Print `e` in the vocabulary of the command `ctx` runs; return its exit code."""
    spellings = _spellings(ctx)
    message = cli_text(e.message, spellings)
    if e.param:
        flag = cli_name(e.param, spellings.get(e.param))
        # "size must be ..." reads "--size must be ..."; other messages get a "--size: " prefix.
        if message.startswith(f"{e.param} "):
            message = flag + message[len(e.param) :]
        else:
            message = f"{flag}: {message}"
    report_error(message, cli_text(e.hint, spellings) if e.hint else None)
    return EXIT_USAGE if isinstance(e, ParameterError) else EXIT_ERROR


def report_failure(e: BaseException, debug: bool, ctx: typer.Context | None = None) -> int:
    """Print why the command failed, in one paragraph (and the traceback with `debug`); return
    its exit code."""
    if isinstance(e, KeyboardInterrupt):
        terminated = isinstance(e, Terminated)
        report_error(f"{'terminated' if terminated else 'interrupted'}; {NOTHING_KEPT}")
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    if debug:
        console.print_exception()
    if isinstance(e, CvtoolError):
        return report_cvtool_error(e, ctx)
    if isinstance(e, OSError):  # a file the command could not read or write
        report_error(*os_error_text(e))
    else:
        report_error(
            f"unexpected {type(e).__name__}: {e}",
            None if debug else "re-run with --debug for the full traceback",
        )
    return EXIT_ERROR


def os_error_text(e: OSError) -> tuple[str, str]:
    """The message and hint for a file error: what failed, on which file, and what to do."""
    where = " -> ".join(str(f) for f in (e.filename, e.filename2) if f is not None) or "a file"
    reason = e.strerror or type(e).__name__
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = (
            "inputs must be readable and the output folder writable: check the permissions, "
            "or choose another output (--out)"
        )
    elif e.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = "free some space, or choose an output on another disk (--out)"
    else:
        hint = "check that the path exists and is what the command expects"
    return f"{reason}: {where}", hint


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
            command_context = kw.get(context_name)
            if context_name not in own_params:
                kw.pop(context_name, None)
            try:
                result = fn(*args, **kw)
            except (typer.Exit, typer.Abort, typer.BadParameter):
                raise
            except (Exception, KeyboardInterrupt) as e:
                code = report_failure(e, debug, command_context)
                from cvtool.core.workers import stop_workers  # not imported for `--help`

                # Workers still running (an abandoned pool, loader workers) would delay the
                # exit until their tasks end, for ever for one that never does.
                stop_workers()
                raise typer.Exit(code) from None
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
        # ... and injects the running command's context into the one parameter typed
        # `typer.Context`: the command's own, else one added here.
        signature = inspect.signature(fn)
        params = list(signature.parameters.values())
        own_params = {p.name for p in params}
        context_name = next(
            (p.name for p in params if p.annotation in (typer.Context, "typer.Context")),
            "command_context",
        )
        if context_name not in own_params:
            extra.append(
                inspect.Parameter(
                    context_name, inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context
                )
            )
        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*params, *extra]
        )
        return app.command(name, **kwargs)(wrapper)

    return decorator


# The option vocabulary (docs/conventions.md): one name and one meaning per concept.


def out_option(help: str, default: Path | None = None) -> Any:
    """`--out`: where the command writes."""
    return typer.Option(default, "--out", help=help)


def overwrite_option(help: str = "Replace an existing non-empty --out.") -> Any:
    """`--overwrite`: a plain flag (there is no `--no-overwrite`)."""
    return typer.Option(False, "--overwrite", help=help)


def workers_option(help: str = "Worker processes (default: all cores).") -> Any:
    return typer.Option(None, "--workers", min=1, help=help)


def seed_option(help: str = "Random seed.") -> Any:
    return typer.Option(0, "--seed", help=help)


def device_option() -> Any:
    """`--device`: `auto|cpu|cuda|cuda:N|mps`, resolved by `cvtool.core.device.resolve_device`."""
    return typer.Option("auto", "--device", help=f"Device: {DEVICE_HELP}.")


def batch_size_option(default: int, help: str = "Images per forward pass.") -> Any:
    return typer.Option(default, "--batch-size", min=1, help=help)


THREADS_HELP = (
    "Intra-op threads of torch (default: the cores this process may use, or $OMP_NUM_THREADS)."
)
CACHE_HELP = (
    "Decoded-sample cache: none; ram (decoded once into memory for this run); disk (a "
    "memory-mapped file in DATA/.cache, kept and reused while the images are unchanged)."
)


def threads_option() -> Any:
    """`--threads N`: torch's intra-op threads (`cvtool.core.threads.set_threads`)."""
    return typer.Option(None, "--threads", min=1, help=THREADS_HELP)


def cache_option() -> Any:
    """`--cache none|ram|disk` (`cvtool.core.cache`), checked by the library."""
    return typer.Option("none", "--cache", metavar="[none|ram|disk]", help=CACHE_HELP)


def parse_csv_list(value: str | None) -> list[str]:
    """`"a,b, c"` -> `["a", "b", "c"]` (empty items dropped)."""
    from cvtool.api.params import as_names

    return as_names(value, "value")
