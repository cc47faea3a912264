"""Archive extraction: member selection, path-traversal and link protection, damaged files."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest
from download_mirror import make_tar, make_zip

from cvtool.core.errors import CvtoolError
from cvtool.download.catalogue import Extract
from cvtool.download.extract import extract, install

RULES = (Extract("pkg/data", "data"), Extract("pkg/README", "docs/README"))


@pytest.mark.parametrize("fmt", ["zip", "tar"])
def test_selected_members_are_remapped(fmt: str, tmp_path: Path) -> None:
    files = {
        "pkg/data/a.txt": b"a",
        "pkg/data/sub/b.txt": b"b",
        "pkg/README": b"r",
        "pkg/other/c.txt": b"c",
        "pkg/data-not-this/d.txt": b"d",  # same prefix, different folder
    }
    archive = tmp_path / f"a.{fmt}"
    archive.write_bytes(make_zip(files) if fmt == "zip" else make_tar(files))
    staging = tmp_path / "staging"
    assert extract(archive, RULES, staging) == 3
    got = {
        p.relative_to(staging).as_posix(): p.read_bytes() for p in staging.rglob("*") if p.is_file()
    }
    assert got == {"data/a.txt": b"a", "data/sub/b.txt": b"b", "docs/README": b"r"}


def test_tar_gz_is_read(tmp_path: Path) -> None:
    import gzip

    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(gzip.compress(make_tar({"pkg/data/a.txt": b"a", "pkg/README": b"r"})))
    assert extract(archive, RULES, tmp_path / "s") == 2


@pytest.mark.parametrize("fmt", ["zip", "tar"])
@pytest.mark.parametrize("evil", ["pkg/data/../../../escaped.txt", "/tmp/escaped.txt"])
def test_path_traversal_is_refused(fmt: str, evil: str, tmp_path: Path) -> None:
    files = {"pkg/data/a.txt": b"a", evil: b"evil", "pkg/README": b"r"}
    archive = tmp_path / "in" / f"a.{fmt}"
    archive.parent.mkdir()
    archive.write_bytes(make_zip(files) if fmt == "zip" else make_tar(files))
    staging = tmp_path / "in" / "staging"
    with pytest.raises(CvtoolError, match="unsafe path") as err:
        extract(archive, RULES, staging)
    assert str(archive) in err.value.message
    assert not list(tmp_path.rglob("escaped.txt"))


def test_tar_symlink_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar"
    archive.write_bytes(make_tar({"pkg/README": b"r"}, links={"pkg/data/link": "/etc/passwd"}))
    with pytest.raises(CvtoolError, match="'pkg/data/link' is a link or special file"):
        extract(archive, RULES, tmp_path / "s")


def test_zip_symlink_is_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("pkg/data/link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
        zf.writestr("pkg/README", b"r")
    archive = tmp_path / "a.zip"
    archive.write_bytes(buf.getvalue())
    with pytest.raises(CvtoolError, match="is a link or special file"):
        extract(archive, RULES, tmp_path / "s")


def test_not_an_archive(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    archive.write_bytes(b"<html>not found</html>")
    with pytest.raises(CvtoolError, match="not a readable zip or tar archive"):
        extract(archive, RULES, tmp_path / "s")


def test_damaged_member_is_reported(tmp_path: Path) -> None:
    data = bytearray(make_zip({"pkg/data/a.txt": b"a" * 5000, "pkg/README": b"r"}))
    start = data.index(b"pkg/data/a.txt") + len("pkg/data/a.txt")
    data[start + 5 : start + 15] = b"\xff" * 10  # inside the compressed stream
    archive = tmp_path / "a.zip"
    archive.write_bytes(bytes(data))
    with pytest.raises(CvtoolError, match=r"'pkg/data/a\.txt' is damaged"):
        extract(archive, RULES, tmp_path / "s")


def test_install_replaces_destinations_and_leaves_the_rest(tmp_path: Path) -> None:
    staging, target = tmp_path / "state" / "staging", tmp_path / "out"
    (staging / "data").mkdir(parents=True)
    (staging / "data" / "new.txt").write_text("new")
    (staging / "docs").mkdir()
    (staging / "docs" / "README").write_text("readme")
    (target / "data").mkdir(parents=True)
    (target / "data" / "old.txt").write_text("old")
    (target / "docs").mkdir()
    (target / "docs" / "mine.md").write_text("user file")
    install(staging, target, ["data", "docs/README"])
    assert sorted(p.name for p in (target / "data").iterdir()) == ["new.txt"]
    assert (target / "docs" / "mine.md").read_text() == "user file"
    assert (target / "docs" / "README").read_text() == "readme"
    assert [p.name for p in (tmp_path / "state").iterdir()] == ["staging"]  # no trash left
