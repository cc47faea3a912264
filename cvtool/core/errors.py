"""The one exception type the CLI turns into a clear message and exit code 1."""

from __future__ import annotations

import copyreg
from typing import Any


class CvtoolError(Exception):
    """A data or runtime problem the user can fix.

    `message` says what is wrong (naming the file when there is one); `hint` says how to fix it;
    `param` names the Python parameter at fault, if one is (the CLI shows it as its option,
    `batch_size` as `--batch-size`), so library messages never name CLI flags themselves.
    A parameter quoted in the message or hint (`` `weights` ``, `` `overwrite=True` ``,
    `` `pretrained=False` ``) is likewise shown as the command's option (`--no-pretrained`).
    """

    def __init__(self, message: str, hint: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.param = param

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"

    def __reduce__(self) -> tuple[Any, ...]:
        # An exception pickles as `type(*args)` by default, and `args` holds only the message:
        # one raised in a worker process would reach the parent without its hint and param.
        return copyreg.__newobj__, (type(self), *self.args), self.__dict__


class ParameterError(CvtoolError):
    """A parameter value that cannot work, whatever the data: an unknown device, a malformed
    size, a device this machine lacks. The CLI reports it as a usage error (exit code 2)."""

    def __init__(self, message: str, param: str, hint: str | None = None) -> None:
        super().__init__(message, hint, param)


def check_range(
    value: object, param: str, low: float | None = None, high: float | None = None
) -> None:
    """A `ParameterError` naming `param` unless `value` is a number (not a bool) in
    `[low, high]` (an open side when None)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if (
        number
        and value == value  # not NaN
        and (low is None or value >= low)  # type: ignore[operator]
        and (high is None or value <= high)  # type: ignore[operator]
    ):
        return
    if low is not None and high is not None:
        wanted = f"in {low:g}..{high:g}"
    else:
        wanted = f">= {low:g}" if low is not None else f"<= {high:g}"
    raise ParameterError(f"{param} must be a number {wanted}, got {value!r}", param)
