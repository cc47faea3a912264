"""Streaming HTTP downloads that resume, verify and only then move the file into place.

A file is fetched into `<name>.part` in 1 MiB chunks, hashed on the fly, and renamed onto
`<name>` only after its size and checksum are right, so a file without `.part` is always
complete. An interrupted transfer is resumed with `Range: bytes=N-` (automatically for
`retries` times, and again on the next run); a server that ignores `Range` (200 instead of 206)
makes the download restart cleanly from byte 0.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from rich.progress import Progress, TaskID

from cvtool import __version__
from cvtool.core.console import warn
from cvtool.core.errors import CvtoolError
from cvtool.download.catalogue import Checksum, Source

try:
    import fcntl
except ImportError:  # Windows: no advisory locks
    fcntl = None  # type: ignore[assignment]

CHUNK = 1 << 20
MIB = float(1 << 20)
USER_AGENT = f"cvtool/{__version__} (+urllib)"
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_TRANSFER_ERRORS = (http.client.HTTPException, ConnectionError, TimeoutError, socket.timeout)

Validator = Callable[[Path], "str | None"]


@dataclass
class FetchResult:
    path: Path
    url: str
    size: int
    fetched_bytes: int  # bytes that came over the network in this call
    skipped: bool  # already complete and verified: nothing fetched


def _hasher(checksum: Checksum | None) -> hashlib._Hash | None:
    return hashlib.new(checksum.algorithm) if checksum else None


def file_digest(path: Path, algorithm: str) -> str:
    """Hex digest of a file, read in chunks."""
    h = hashlib.new(algorithm)
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _problem(path: Path, source: Source, digest: str | None) -> str | None:
    """Why `path` is not the file `source` describes (None when it is)."""
    size = path.stat().st_size
    if source.size is not None and size != source.size:
        return f"size: expected {source.size} bytes, got {size}"
    if source.checksum is not None:
        got = digest or file_digest(path, source.checksum.algorithm)
        if not source.checksum.matches(got):
            algo = source.checksum.algorithm
            return f"{algo}: expected {source.checksum.hexdigest}, got {got}"
    return None


def _open(url: str, offset: int, timeout: float) -> http.client.HTTPResponse:
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416:
            return e  # type: ignore[return-value]  # handled by the caller
        raise CvtoolError(
            f"the server answered {e.code} {e.reason} for {url}",
            "check the URL (or the mirror's copy of the file) and try again later",
        ) from None
    except (urllib.error.URLError, *_TRANSFER_ERRORS, OSError) as e:
        reason = getattr(e, "reason", e)
        raise CvtoolError(
            f"cannot reach {url}: {reason}",
            "check the network connection (and proxy settings), or point `mirror` / "
            "$CVTOOL_DOWNLOAD_MIRROR at a reachable copy",
        ) from None


class _PartFile:
    """The `.part` file and the running hash of its bytes."""

    def __init__(self, path: Path, checksum: Checksum | None) -> None:
        self.path = path
        self.checksum = checksum
        self.hasher = _hasher(checksum)
        self.size = path.stat().st_size if path.exists() else 0
        if self.size and self.hasher is not None:
            with path.open("rb") as f:
                while chunk := f.read(CHUNK):
                    self.hasher.update(chunk)

    def restart(self) -> None:
        self.path.write_bytes(b"")
        self.size = 0
        self.hasher = _hasher(self.checksum)

    def append_from(self, stream: BinaryIO, on_chunk: Callable[[int], None]) -> None:
        with self.path.open("ab") as f:
            while chunk := stream.read(CHUNK):
                f.write(chunk)
                if self.hasher is not None:
                    self.hasher.update(chunk)
                self.size += len(chunk)
                on_chunk(len(chunk))

    def digest(self) -> str | None:
        return self.hasher.hexdigest() if self.hasher is not None else None


@contextmanager
def _exclusive(dest: Path) -> Iterator[None]:
    """Hold `<dest>.lock` so two processes never write the same `.part` file (POSIX only)."""
    if fcntl is None:
        yield
        return
    lock = dest.with_name(dest.name + ".lock")
    with lock.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CvtoolError(
                f"{dest} is being downloaded by another process",
                "wait for it to finish, then run the command again",
            ) from None
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)


def _mismatch(dest: Path, url: str, problem: str) -> CvtoolError:
    return CvtoolError(
        f"{dest.name} downloaded from {url} is not the published file ({problem}); "
        "the bad download was deleted",
        "run the command again to fetch it anew; if it fails again the server or mirror "
        "serves a different file",
    )


def fetch(
    source: Source,
    dest: Path,
    url: str | None = None,
    *,
    timeout: float = 15.0,
    retries: int = 2,
    progress: Progress | None = None,
    validate: Validator | None = None,
) -> FetchResult:
    """Download `source` (from `url`, default its official URL) to `dest`, resuming and verifying.

    An existing `dest` that verifies is kept and nothing is fetched; one that does not is
    replaced. Raises `CvtoolError` when the server cannot be reached, when the transfer keeps
    failing (the `.part` file is kept for the next run), or when the result fails verification
    (only the bad download is deleted).
    """
    url = url or source.url
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CvtoolError(
            f"cannot create the folder {dest.parent}: {e.strerror}",
            "choose an `out` folder you can write to",
        ) from None
    with _exclusive(dest):
        if dest.exists():
            problem = _problem(dest, source, None) or (validate(dest) if validate else None)
            if problem is None:
                size = dest.stat().st_size
                return FetchResult(dest, url, size, fetched_bytes=0, skipped=True)
            warn(f"{dest} is damaged ({problem}); downloading it again")
            dest.unlink()

        part = _PartFile(dest.with_name(dest.name + ".part"), source.checksum)
        if source.size is not None and part.size > source.size:
            part.restart()
        task = progress.add_task(f"{dest.name} (MiB)", total=None, status="") if progress else None
        fetched = _transfer(source, url, part, timeout, retries, progress, task)

        problem = _problem(part.path, source, part.digest()) or (
            validate(part.path) if validate else None
        )
        if problem is not None:
            part.path.unlink()
            raise _mismatch(dest, url, problem)
        os.replace(part.path, dest)
        return FetchResult(dest, url, part.size, fetched_bytes=fetched, skipped=False)


def _transfer(
    source: Source,
    url: str,
    part: _PartFile,
    timeout: float,
    retries: int,
    progress: Progress | None,
    task: TaskID | None,
) -> int:
    """Fill `part` up to the full file; returns the number of bytes fetched."""
    fetched = 0

    def advance(n: int) -> None:
        nonlocal fetched
        fetched += n
        if progress is not None and task is not None:
            progress.update(task, completed=part.size / MIB)

    attempt = 0
    while True:
        if source.size is not None and part.size == source.size:
            return fetched  # complete from an earlier run: verified by the caller
        with _open(url, part.size, timeout) as response:
            if response.status == 416:
                if _range_total(response) == part.size:
                    return fetched  # the part already holds the whole file
                attempt += 1
                if attempt > retries:
                    raise CvtoolError(f"{url} refused every request for byte range {part.size}-")
                part.restart()
                continue
            total = _start(response, url, part)
            if source.size is not None and total is not None and total != source.size:
                raise CvtoolError(
                    f"{url} is {total} bytes but the published file is {source.size} bytes",
                    "the server or mirror serves a different file; nothing was changed",
                )
            if progress is not None and task is not None:
                progress.update(
                    task, total=total / MIB if total else None, completed=part.size / MIB
                )
            try:
                part.append_from(response, advance)
            except _TRANSFER_ERRORS as e:
                attempt += 1
                if attempt > retries:
                    raise CvtoolError(
                        f"the transfer of {url} broke off after {part.size} bytes "
                        f"({type(e).__name__}); the partial file {part.path} is kept",
                        "run the same command again to resume from there",
                    ) from None
                warn(
                    f"connection lost after {part.size} bytes of {url}; "
                    f"resuming ({attempt}/{retries})"
                )
                continue
        if total is None or part.size >= total:
            return fetched
        attempt += 1  # the server closed the stream early without an error
        if attempt > retries:
            raise CvtoolError(
                f"{url} ended after {part.size} of {total} bytes; the partial file "
                f"{part.path} is kept",
                "run the same command again to resume from there",
            )


def _range_total(response: http.client.HTTPResponse) -> int | None:
    """The full size a 416 answer reports (`Content-Range: bytes */N`)."""
    match = re.fullmatch(r"bytes \*/(\d+)", response.headers.get("Content-Range", ""))
    return int(match.group(1)) if match else None


def _start(response: http.client.HTTPResponse, url: str, part: _PartFile) -> int | None:
    """Align `part` with what the server sends; return the full file size when it is known.

    206 must continue exactly at our offset; 200 means the server ignored `Range`: start over.
    """
    if response.status == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
        if match is None or int(match.group(1)) != part.size:
            raise CvtoolError(
                f"{url} answered a resume request with the wrong range "
                f"({response.headers.get('Content-Range')!r}, wanted bytes {part.size}-)",
                f"delete {part.path} and run again",
            )
        return int(match.group(3)) if match.group(3) != "*" else None
    if part.size:
        warn(f"{url} does not support resuming; starting from byte 0")
        part.restart()
    length = response.headers.get("Content-Length")
    return int(length) if length is not None else None
