"""The HTTP client: full download, resume, servers that ignore Range, bad files, dead hosts."""

from __future__ import annotations

import hashlib
import socket
import time
from pathlib import Path

import pytest
from download_mirror import MirrorServer, noise, source_for

from cvtool.core.errors import CvtoolError
from cvtool.download.catalogue import Checksum, Source, resolve_url
from cvtool.download.fetch import fetch

DATA = noise(2_500_000)  # more than two 1 MiB chunks
URL = "http://files.example/data/blob.bin"


def _fetch(server: MirrorServer, dest: Path, source: Source | None = None, **kw):
    source = source or source_for(DATA, URL)
    return fetch(source, dest, resolve_url(source.url, server.url), **kw)


def test_full_download_then_skip(mirror: MirrorServer, tmp_path: Path) -> None:
    mirror.add(URL, DATA)
    dest = tmp_path / "blob.bin"
    first = _fetch(mirror, dest)
    assert dest.read_bytes() == DATA
    assert (first.fetched_bytes, first.skipped, first.size) == (len(DATA), False, len(DATA))
    assert not dest.with_name("blob.bin.part").exists()
    second = _fetch(mirror, dest)
    assert (second.fetched_bytes, second.skipped) == (0, True)
    assert len(mirror.log) == 1  # the verified file was not fetched again


def test_interrupted_transfer_resumes_in_the_same_call(
    mirror: MirrorServer, tmp_path: Path
) -> None:
    mirror.add(URL, DATA)
    path = resolve_url(URL, "")
    mirror.interrupt[path] = (300_000, 1)
    result = _fetch(mirror, tmp_path / "blob.bin")
    assert (tmp_path / "blob.bin").read_bytes() == DATA
    assert [(r.range, r.status, r.body_bytes) for r in mirror.log] == [
        (None, 200, 300_000),
        ("bytes=300000-", 206, len(DATA) - 300_000),
    ]
    assert result.fetched_bytes == len(DATA)  # every byte crossed the network exactly once


def test_partial_file_is_kept_and_resumed_by_the_next_run(
    mirror: MirrorServer, tmp_path: Path
) -> None:
    mirror.add(URL, DATA)
    mirror.interrupt[resolve_url(URL, "")] = (1_200_000, 1)
    dest = tmp_path / "blob.bin"
    with pytest.raises(CvtoolError, match="ended after 1200000 of 2500000 bytes") as err:
        _fetch(mirror, dest, retries=0)
    assert "run the same command again" in (err.value.hint or "")
    part = tmp_path / "blob.bin.part"
    assert part.read_bytes() == DATA[:1_200_000] and not dest.exists()

    result = _fetch(mirror, dest)
    assert dest.read_bytes() == DATA and not part.exists()
    assert result.fetched_bytes == len(DATA) - 1_200_000
    assert mirror.log[-1].range == "bytes=1200000-" and mirror.log[-1].status == 206


def test_resume_follows_redirects(mirror: MirrorServer, tmp_path: Path) -> None:
    mirror.add(URL, b"")
    mirror.redirects[resolve_url(URL, "")] = "/cdn/blob.bin?signature=abc"
    mirror.files["/cdn/blob.bin?signature=abc"] = DATA
    (tmp_path / "blob.bin.part").write_bytes(DATA[:500_000])
    result = _fetch(mirror, tmp_path / "blob.bin")
    assert (tmp_path / "blob.bin").read_bytes() == DATA
    assert [(r.range, r.status) for r in mirror.log] == [
        ("bytes=500000-", 302),
        ("bytes=500000-", 206),
    ]
    assert result.fetched_bytes == len(DATA) - 500_000


def test_server_ignoring_range_restarts_cleanly(mirror: MirrorServer, tmp_path: Path) -> None:
    mirror.add(URL, DATA)
    mirror.ignore_range.add(resolve_url(URL, ""))
    (tmp_path / "blob.bin.part").write_bytes(DATA[:700_000])
    result = _fetch(mirror, tmp_path / "blob.bin")
    assert (tmp_path / "blob.bin").read_bytes() == DATA
    assert [(r.range, r.status) for r in mirror.log] == [("bytes=700000-", 200)]
    assert result.fetched_bytes == len(DATA)


def test_resume_answered_with_the_wrong_range_is_refused(
    mirror: MirrorServer, tmp_path: Path
) -> None:
    mirror.add(URL, DATA)
    mirror.wrong_range.add(resolve_url(URL, ""))
    (tmp_path / "blob.bin.part").write_bytes(DATA[:1000])
    with pytest.raises(CvtoolError, match="wrong range") as err:
        _fetch(mirror, tmp_path / "blob.bin")
    assert "blob.bin.part" in (err.value.hint or "")
    assert (tmp_path / "blob.bin.part").read_bytes() == DATA[:1000]  # nothing appended


def test_part_longer_than_the_published_file_starts_over(
    mirror: MirrorServer, tmp_path: Path
) -> None:
    mirror.add(URL, DATA)
    (tmp_path / "blob.bin.part").write_bytes(DATA + b"junk")
    result = _fetch(mirror, tmp_path / "blob.bin")
    assert (tmp_path / "blob.bin").read_bytes() == DATA and result.fetched_bytes == len(DATA)
    assert [r.range for r in mirror.log] == [None]


def test_complete_part_file_is_verified_without_fetching(
    mirror: MirrorServer, tmp_path: Path
) -> None:
    mirror.add(URL, DATA)
    (tmp_path / "blob.bin.part").write_bytes(DATA)
    result = _fetch(mirror, tmp_path / "blob.bin")
    assert (tmp_path / "blob.bin").read_bytes() == DATA and result.fetched_bytes == 0
    assert mirror.log == []


def test_unknown_size_part_complete_gets_416(mirror: MirrorServer, tmp_path: Path) -> None:
    mirror.add(URL, DATA)
    (tmp_path / "blob.bin.part").write_bytes(DATA)
    md5 = hashlib.md5(DATA).hexdigest()
    source = Source(URL, checksum=Checksum("md5", md5, "test"))  # no published size
    result = _fetch(mirror, tmp_path / "blob.bin", source)
    assert (tmp_path / "blob.bin").read_bytes() == DATA and result.fetched_bytes == 0
    assert [(r.range, r.status) for r in mirror.log] == [(f"bytes={len(DATA)}-", 416)]


def test_checksum_mismatch_deletes_only_the_bad_download(
    mirror: MirrorServer, tmp_path: Path
) -> None:
    bad = DATA[:-1] + b"\x00"
    mirror.add(URL, bad)
    good_neighbour = tmp_path / "other.bin"
    good_neighbour.write_bytes(b"keep me")
    dest = tmp_path / "blob.bin"
    with pytest.raises(CvtoolError) as err:
        _fetch(mirror, dest)
    message = err.value.message
    assert "blob.bin" in message and resolve_url(URL, mirror.url) in message
    assert hashlib.sha256(DATA).hexdigest() in message  # expected
    assert hashlib.sha256(bad).hexdigest() in message  # got
    assert not dest.exists() and not (tmp_path / "blob.bin.part").exists()
    assert good_neighbour.read_bytes() == b"keep me"


def test_sha256_prefix_as_in_torchvision_names(mirror: MirrorServer, tmp_path: Path) -> None:
    prefix = hashlib.sha256(DATA).hexdigest()[:8]
    url = f"http://files.example/models/net-{prefix}.pth"
    mirror.add(url, DATA)
    source = Source(url, checksum=Checksum("sha256", prefix, "test"))
    _fetch(mirror, tmp_path / source.filename, source)
    assert (tmp_path / f"net-{prefix}.pth").read_bytes() == DATA
    wrong = Source(url, checksum=Checksum("sha256", "00000000", "test"))
    with pytest.raises(CvtoolError, match="sha256: expected 00000000, got " + prefix):
        _fetch(mirror, tmp_path / "x" / wrong.filename, wrong)


def test_damaged_existing_file_is_replaced(mirror: MirrorServer, tmp_path: Path) -> None:
    mirror.add(URL, DATA)
    dest = tmp_path / "blob.bin"
    dest.write_bytes(b"truncated")
    result = _fetch(mirror, dest)
    assert dest.read_bytes() == DATA and not result.skipped


def test_size_announced_by_server_differs_from_published(
    mirror: MirrorServer, tmp_path: Path
) -> None:
    mirror.add(URL, DATA + b"extra")
    with pytest.raises(CvtoolError, match=f"is {len(DATA) + 5} bytes but the published file"):
        _fetch(mirror, tmp_path / "blob.bin")
    assert not (tmp_path / "blob.bin").exists()


def test_validator_rejects_and_deletes(mirror: MirrorServer, tmp_path: Path) -> None:
    mirror.add(URL, DATA)
    with pytest.raises(CvtoolError, match="not a checkpoint"):
        _fetch(mirror, tmp_path / "blob.bin", validate=lambda p: "not a checkpoint")
    assert list(tmp_path.iterdir()) == []


def test_http_error_names_the_url(mirror: MirrorServer, tmp_path: Path) -> None:
    with pytest.raises(CvtoolError, match=r"answered 404 Not Found for http://127\.0\.0\.1"):
        _fetch(mirror, tmp_path / "blob.bin")


def test_server_that_never_answers_times_out(tmp_path: Path) -> None:
    with socket.socket() as listener:  # accepts connections (backlog) but never replies
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/blob.bin"
        start = time.monotonic()
        with pytest.raises(CvtoolError, match=r"cannot reach .*/blob\.bin: .*timed out"):
            fetch(source_for(DATA, url), tmp_path / "blob.bin", url, timeout=0.3)
        assert time.monotonic() - start < 2


def test_a_second_writer_is_refused(mirror: MirrorServer, tmp_path: Path) -> None:
    import fcntl

    mirror.add(URL, DATA)
    dest = tmp_path / "blob.bin"
    with (tmp_path / "blob.bin.lock").open("w") as other:  # another process at work
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(CvtoolError, match="being downloaded by another process"):
            _fetch(mirror, dest)
        fcntl.flock(other, fcntl.LOCK_UN)
    assert mirror.log == [] and not dest.exists()
    _fetch(mirror, dest)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob.bin"]  # no lock file left


def test_unreachable_host_fails_at_once(dead_url: str, tmp_path: Path) -> None:
    source = source_for(DATA, URL)
    start = time.monotonic()
    with pytest.raises(CvtoolError) as err:
        fetch(source, tmp_path / "blob.bin", resolve_url(URL, dead_url), timeout=5)
    assert time.monotonic() - start < 2
    assert f"cannot reach {dead_url}/files.example/data/blob.bin" in err.value.message
    assert "`mirror`" in (err.value.hint or "")
    assert not (tmp_path / "blob.bin").exists()
