"""Output directories that never lose data: staging, the atomic swap, and the rules on `out`.

A stage builds its output in a hidden sibling, `.NAME.partial-XXXXXXXX`, and swaps it in when
complete (`cvtool.core.artifacts.staged_output_dir`). On Linux the swap is one
`renameat2(RENAME_EXCHANGE)` call: at every instant `out` is either the old or the new
artifact, never missing. Where that call is unavailable (other systems, file systems without
it) two renames are used and `out` is missing for the moment between them; when a writer dies
there, the next writer of `out` puts the old version back first.

Readers never take a hidden name for an artifact: staging directories, lock files and the
temporary files of atomic writes all start with `.`.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from cvtool.core.errors import CvtoolError, ParameterError

PARTIAL, OLD = "partial", "old"
# `.NAME.partial-XXXXXXXX` / `.NAME.old-XXXXXXXX`, with the suffix of `tempfile.mkdtemp`
_STAGING = re.compile(r"^\..+\.(?:partial|old)-[a-z0-9_]+$")
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
Snapshot = dict[str, tuple[int, int]]


def is_hidden(path: Path, root: Path | None = None) -> bool:
    """Whether `path`'s name (with `root`: any part of it below `root`) starts with `.`."""
    parts = path.relative_to(root).parts if root is not None else (path.name,)
    return any(p.startswith(".") for p in parts)


def visible(directory: Path, pattern: str = "*") -> list[Path]:
    """The entries of `directory` matching `pattern`, hidden ones (staging directories, lock
    and temporary files) left out, sorted."""
    return sorted(p for p in directory.glob(pattern) if not p.name.startswith("."))


def is_staging(name: str) -> bool:
    """Whether `name` is that of a staging directory (`.NAME.partial-*`, `.NAME.old-*`)."""
    return _STAGING.match(name) is not None


def check_not_staging(path: str | os.PathLike[str], what: str) -> None:
    """Refuse a path inside a staging directory: an output still being written, or the
    remains of an interrupted write."""
    for part in Path(path).parts:
        if is_staging(part):
            raise CvtoolError(
                f"{what} {path} is inside {part}, the staging directory of an output that is "
                "being written or whose writer was interrupted; it is not an artifact",
                "use the finished output (the same name without the leading dot and suffix)",
            )


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once: setting the umask to read it is not thread-safe.
UMASK = _read_umask()


def staging_dir(out: Path, kind: str = PARTIAL) -> Path:
    """A new hidden sibling of `out` to build (`partial`) or to discard (`old`) a version in.

    `mkdtemp` makes it private (0700); it becomes the artifact, so it gets the mode of any new
    folder (0777 less the umask), as does every file from `temp_file_beside`."""
    path = Path(tempfile.mkdtemp(prefix=f".{out.name}.{kind}-", dir=out.parent))
    path.chmod(0o777 & ~UMASK)
    return path


def temp_file_beside(path: Path, suffix: str) -> Path:
    """A new empty hidden file beside `path` to write it under, with the mode of any new file
    (0666 less the umask; `mkstemp` alone makes it 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~UMASK)
    finally:
        os.close(fd)
    return Path(name)


def remove_debris(out: Path) -> None:
    """Clear what an interrupted writer of `out` left beside it: its staging directories, and
    the old version moved aside by the two-rename fallback, which is first put back when the
    writer died before the new one was in place.

    Only call it holding `out`'s lock: then no live writer owns them."""
    pattern = re.compile(rf"^\.{re.escape(out.name)}\.(?:{PARTIAL}|{OLD})-[a-z0-9_]+$")
    if not out.parent.is_dir():
        return
    debris = sorted(p for p in out.parent.iterdir() if pattern.match(p.name) and p.is_dir())
    for path in debris:
        if not out.exists() and path.name.startswith(f".{out.name}.{OLD}-"):
            with contextlib.suppress(FileNotFoundError):
                os.rename(path / out.name, out)
        shutil.rmtree(path, ignore_errors=True)


def remove_temp_files(path: Path) -> None:
    """Delete the temporary files that interrupted atomic writes of `path` left beside it
    (`.NAME.XXXXXXXX.SUFFIX`, see `cvtool.core.artifacts.atomic_path`).

    Only call it holding the lock that covers `path`: then no live writer owns them."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.[a-z0-9_]{{8}}{re.escape(path.suffix)}$")
    if not path.parent.is_dir():
        return
    for temp in sorted(path.parent.iterdir()):
        if pattern.match(temp.name) and temp.is_file():
            temp.unlink(missing_ok=True)


@functools.lru_cache(maxsize=1)
def _renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a C library older than glibc 2.28
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def exchange(a: Path, b: Path) -> bool:
    """Swap the paths `a` and `b` atomically; False where the system cannot."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # this file system has no exchange
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def swap_in(staging: Path, out: Path) -> None:
    """Make the complete `staging` the new `out`, then delete the old version."""
    if not out.exists():
        os.rename(staging, out)
    elif exchange(staging, out):
        shutil.rmtree(staging, ignore_errors=True)  # it now holds the old version
    else:
        trash = staging_dir(out, OLD)
        os.rename(out, trash / out.name)
        os.rename(staging, out)
        shutil.rmtree(trash, ignore_errors=True)


def check_writable(out: Path, param: str = "out") -> None:
    """Refuse early an output whose nearest existing folder cannot be written."""
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CvtoolError(
            f"cannot write {out}: permission denied in {parent}",
            "choose an output in a folder you can write to",
            param=param,
        )


def check_out_not_input(
    out: str | os.PathLike[str],
    inputs: Mapping[str, str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None],
    param: str = "out",
) -> None:
    """Refuse an output that is, contains or lies inside one of a command's inputs.

    `inputs` maps each input parameter to its path(s) (None: not given). Writing such an
    output would replace or mix into what the command reads.
    """
    target = Path(out).resolve()
    for name, value in inputs.items():
        if value is None:
            continue
        paths = [value] if isinstance(value, str | os.PathLike) else list(value)
        for path in paths:
            source = Path(path).resolve()
            if target == source:
                relation = "is"
            elif target in source.parents:
                relation = "contains"
            elif source in target.parents:
                relation = "lies inside"
            else:
                continue
            raise ParameterError(
                f"{param} {out} {relation} the input `{name}` {path}; writing it would change "
                "what the command reads",
                param,
                "choose an output outside the inputs",
            )


def snapshot(directory: Path, names: Iterable[str]) -> Snapshot:
    """`{name: (inode, mtime_ns)}` of entries of `directory`, to see whether they changed."""
    out: Snapshot = {}
    for name in names:
        st = os.lstat(directory / name)
        out[name] = (st.st_ino, st.st_mtime_ns)
    return out


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def carry(out: Path, staging: Path, owns: Iterable[str]) -> Snapshot:
    """Hard-link the visible entries of `out` that a stage does not own into `staging`, so
    the swapped-in version keeps them; returns their snapshot."""
    owned = set(owns)
    names = sorted(p.name for p in out.iterdir() if not is_hidden(p) and p.name not in owned)
    for name in names:
        src, dst = out / name, staging / name
        if src.is_dir() and not src.is_symlink():
            shutil.copytree(src, dst, symlinks=True, copy_function=_link_or_copy)
        elif src.is_symlink():
            os.symlink(os.readlink(src), dst)
        else:
            _link_or_copy(str(src), str(dst))
    return snapshot(out, names)


def changed_entries(out: Path, carried: Snapshot, owns: Iterable[str]) -> list[str]:
    """Entries of `out` that appeared, vanished or were replaced since they were carried."""
    owned = set(owns)
    now = {p.name for p in out.iterdir() if not is_hidden(p) and p.name not in owned}
    changed = sorted(now ^ set(carried))
    both = sorted(now & set(carried))
    return changed + [n for n, s in snapshot(out, both).items() if s != carried[n]]
