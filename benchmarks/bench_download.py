"""Download client benchmark on a loopback HTTP server (no external network).

1. Throughput: `fetch` (streams to disk and hashes on the fly, md5 verified) against the obvious
   baseline `urllib.request.urlretrieve` followed by a separate md5 pass over the file.
2. Resume: a transfer broken at 90 % finished by `fetch` with `Range` against starting over
   (what a client without resume does).
3. Extraction: `extract` (member checks, path-traversal protection) against
   `zipfile.ZipFile.extractall` on a zip of many small files.

    python benchmarks/bench_download.py --mib 256
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import tempfile
import threading
import time
import urllib.request
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cvtool.download.catalogue import Checksum, Extract, Source
from cvtool.download.extract import extract
from cvtool.download.fetch import fetch


class RangeHandler(SimpleHTTPRequestHandler):
    """Serves the current directory; answers `Range: bytes=N-` with 206."""

    def log_message(self, *args: object) -> None:
        pass

    def send_head(self):  # type: ignore[override]
        asked = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if not asked or not path.is_file():
            return super().send_head()
        start = int(asked.removeprefix("bytes=").split("-")[0])
        size = path.stat().st_size
        f = path.open("rb")
        f.seek(start)
        self.send_response(206)
        self.send_header("Content-Length", str(size - start))
        self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        self.end_headers()
        return f


def serve(directory: Path) -> tuple[ThreadingHTTPServer, str]:
    handler = lambda *a, **k: RangeHandler(*a, directory=str(directory), **k)  # noqa: E731
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def side_by_side(repeats: int, baseline, ours, reset) -> tuple[float, float]:
    """Best wall time of each, run alternately so both see the same machine load."""
    times: dict[str, list[float]] = {"baseline": [], "ours": []}
    for _ in range(repeats):
        for name, fn in (("baseline", baseline), ("ours", ours)):
            reset()
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return min(times["baseline"]), min(times["ours"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256, help="size of the served file")
    parser.add_argument("--files", type=int, default=5000, help="members of the extraction zip")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-download-"))
    served, out = work / "served", work / "out"
    served.mkdir()
    out.mkdir()
    data = os.urandom(args.mib << 20)
    (served / "blob.bin").write_bytes(data)
    source = Source(
        "http://x/blob.bin", len(data), Checksum("md5", hashlib.md5(data).hexdigest(), "-")
    )
    httpd, base = serve(served)
    url = f"{base}/blob.bin"
    dest = out / "blob.bin"

    def reset() -> None:
        for p in out.iterdir():
            p.unlink()

    def baseline() -> None:
        urllib.request.urlretrieve(url, dest)
        with dest.open("rb") as f:
            assert hashlib.file_digest(f, "md5").hexdigest() == source.checksum.hexdigest

    base_t, ours = side_by_side(args.repeats, baseline, lambda: fetch(source, dest, url), reset)
    print(f"[throughput] {args.mib} MiB, md5 verified, best of {args.repeats}")
    print(f"  urlretrieve + md5 pass : {base_t:6.3f} s  ({args.mib / base_t:7.1f} MiB/s)")
    print(f"  fetch (hash in flight) : {ours:6.3f} s  ({args.mib / ours:7.1f} MiB/s)")
    print(f"  speed-up               : {base_t / ours:6.2f}x")

    cut = len(data) * 9 // 10

    def broken() -> None:
        reset()
        (out / "blob.bin.part").write_bytes(data[:cut])

    def restart() -> None:
        (out / "blob.bin.part").unlink()
        fetch(source, dest, url)

    restart_t, resume = side_by_side(
        args.repeats, restart, lambda: fetch(source, dest, url), broken
    )
    print(f"[resume] transfer broken at 90 %, best of {args.repeats}")
    print(f"  start over             : {restart_t:6.3f} s  ({len(data) >> 20} MiB fetched)")
    print(f"  resume with Range      : {resume:6.3f} s  ({(len(data) - cut) >> 20} MiB fetched)")
    print(f"  speed-up               : {restart_t / resume:6.2f}x")
    httpd.shutdown()

    archive = work / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(args.files):
            zf.writestr(f"pkg/images/{i:06d}.jpg", os.urandom(20_000))
    target = work / "extract"

    def clean() -> None:
        shutil.rmtree(target, ignore_errors=True)

    def plain() -> None:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(target)

    base_t, ours = side_by_side(
        args.repeats,
        plain,
        lambda: extract(archive, [Extract("pkg/images", "images")], target),
        clean,
    )
    print(f"[extract] {args.files} members of 20 kB, best of {args.repeats}")
    print(f"  ZipFile.extractall     : {base_t:6.3f} s")
    print(f"  extract (checked)      : {ours:6.3f} s")
    print(f"  ratio                  : {base_t / ours:6.2f}x")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
