"""`download_dataset`: fetch a dataset's archives, verify them, and lay them out for `prepare`.

Everything cvtool keeps for itself lives in `DIR/.cvtool/`: `archives/` (downloads and their
`.part` files), short-lived `staging-*` directories, and `<dataset>.json`, the record of a
finished download. All archives are downloaded and verified before any is extracted, so a
failure leaves the previously installed layout untouched.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cvtool.core.artifacts import atomic_write_json, read_json
from cvtool.core.console import info, make_progress
from cvtool.core.errors import CvtoolError
from cvtool.core.provenance import provenance
from cvtool.download.catalogue import DatasetSpec, dataset_spec, mib, mirror_base, resolve_url
from cvtool.download.extract import extract, install
from cvtool.download.fetch import FetchResult, fetch

STATE_DIR = ".cvtool"


@dataclass
class DatasetDownload:
    """What `download_dataset` did. `root` (also `path`) is the path the next stage takes."""

    name: str
    directory: Path
    root: Path
    files: list[FetchResult]
    extracted_files: int
    already_done: bool

    @property
    def path(self) -> Path:
        return self.root

    def to_dict(self) -> dict[str, object]:
        """The download as plain JSON types (`cvtool download DATASET --json`)."""
        return {
            "dataset": self.name,
            "directory": str(self.directory),
            "root": str(self.root),
            "already_done": self.already_done,
            "extracted_files": self.extracted_files,
            "archives": [
                {
                    "url": f.url,
                    "bytes": f.size,
                    "fetched_bytes": f.fetched_bytes,
                    "skipped": f.skipped,
                }
                for f in self.files
            ],
        }


def _dests(spec: DatasetSpec) -> list[str]:
    return [rule.dest for archive in spec.archives for rule in archive.extracts]


def _is_done(spec: DatasetSpec, directory: Path) -> bool:
    record = directory / STATE_DIR / f"{spec.name}.json"
    if not record.is_file():
        return False
    saved = read_json(record, "download record")
    urls = saved.get("urls") if isinstance(saved, dict) else None
    same = urls == [a.source.url for a in spec.archives]
    return same and all((directory / d).exists() for d in _dests(spec))


def download_dataset(
    name: str,
    out: Path,
    *,
    mirror: str | None = None,
    overwrite: bool = False,
    keep_archives: bool = False,
    timeout: float = 15.0,
    retries: int = 2,
) -> DatasetDownload:
    """Download dataset `name` into directory `out` in the layout `cvtool prepare`/`track` read.

    A finished download (recorded in `out/.cvtool/<name>.json`) is not repeated unless
    `overwrite`; destinations that exist without such a record are refused unless `overwrite`.
    """
    spec = dataset_spec(name)
    directory = Path(out)
    root = (directory / spec.root).resolve() if spec.root != "." else directory.resolve()
    if not overwrite and _is_done(spec, directory):
        info(f"{spec.name} is already in {directory}; nothing to do")
        return DatasetDownload(spec.name, directory, root, [], 0, already_done=True)
    existing = [d for d in _dests(spec) if (directory / d).exists()]
    if existing and not overwrite:
        raise CvtoolError(
            f"{', '.join(str(directory / d) for d in existing)} already exist(s) and were not "
            f"made by `cvtool download {spec.name}`",
            "pass `overwrite=True` to replace them, or choose another `out` directory",
        )

    state = directory / STATE_DIR
    base = mirror_base(mirror)
    results: list[FetchResult] = []
    with make_progress() as progress:
        for archive in spec.archives:
            dest = state / "archives" / archive.source.filename
            url = resolve_url(archive.source.url, base)
            results.append(
                fetch(
                    archive.source,
                    dest,
                    url,
                    timeout=timeout,
                    retries=retries,
                    progress=progress,
                )
            )

    staging = Path(tempfile.mkdtemp(prefix=f"staging-{spec.name}-", dir=state))
    try:
        count = sum(
            extract(result.path, archive.extracts, staging)
            for archive, result in zip(spec.archives, results, strict=True)
        )
        install(staging, directory, _dests(spec))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    atomic_write_json(
        state / f"{spec.name}.json",
        {
            "dataset": spec.name,
            "urls": [a.source.url for a in spec.archives],
            "downloaded_from": [r.url for r in results],
            "layout": _dests(spec),
            "root": spec.root,
            **provenance(),
        },
    )
    if not keep_archives:
        for result in results:
            result.path.unlink(missing_ok=True)
    fetched = mib(sum(r.fetched_bytes for r in results))
    info(f"{spec.name}: {count} files in {directory} ({fetched} fetched); next stage reads {root}")
    return DatasetDownload(spec.name, directory, root, results, count, already_done=False)
