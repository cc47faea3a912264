"""Downloads from Python: official datasets and pretrained weights, resumable and verified.

Nothing is fetched twice: a finished dataset download is recorded in `out/.cvtool/`, and a
weights file already in the cache is verified, not fetched again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cvtool.api.params import PathLike, as_optional_path, as_path
from cvtool.api.results import WeightsResult
from cvtool.core.console import quiet
from cvtool.download.catalogue import DATA_DIR

if TYPE_CHECKING:
    from cvtool.download.datasets import DatasetDownload


def download_dataset(
    name: str,
    out: PathLike = DATA_DIR,
    *,
    mirror: str | None = None,
    overwrite: bool = False,
    keep_archives: bool = False,
    timeout: float = 15.0,
    retries: int = 2,
    progress: bool = False,
) -> DatasetDownload:
    """Download dataset `name` (`cvtool.download.catalogue.DATASETS`: coco-val2017, voc2012,
    camvid, mot17) into `out`, laid out as `prepare_*` and `track_objects` read it.

    Args:
        name: the dataset.
        out: directory to download and extract into (datasets are shared inputs: not numbered).
        mirror: base URL of a mirror holding each file under `MIRROR/HOST/PATH` (default:
            `$CVTOOL_DOWNLOAD_MIRROR`, else the official servers).
        overwrite: replace an existing copy of the dataset in `out`.
        keep_archives: keep the verified archives in `out/.cvtool/archives` after extracting.
        timeout: network timeout in seconds.
        retries: automatic resumes after a broken transfer.
        progress: show download progress on stderr.

    Returns:
        `path` (the folder the next stage reads, e.g. `data/MOT17/train`), the archives fetched
        and the files extracted; `already_done` when an earlier download is complete.
    """
    from cvtool.download import datasets

    with quiet(not progress):
        return datasets.download_dataset(
            name,
            as_path(out, "out"),
            mirror=mirror,
            overwrite=overwrite,
            keep_archives=keep_archives,
            timeout=timeout,
            retries=retries,
        )


def download_weights(
    name: str,
    out: PathLike | None = None,
    *,
    mirror: str | None = None,
    timeout: float = 15.0,
    retries: int = 2,
    progress: bool = False,
) -> WeightsResult:
    """Download pretrained weights into the cache the library that uses them already reads.

    YOLO files (`yolov8n.pt` ...) go to Ultralytics' weights directory, torchvision weights (a
    model name such as `resnet50`, or a weights enum such as `ResNet50_Weights.IMAGENET1K_V2`)
    to `torch.hub.get_dir()/checkpoints`.

    Args:
        name: the weights.
        out: directory to save into (default: the library's own cache).
        mirror: base URL of a mirror holding each file under `MIRROR/HOST/PATH`.
        timeout: network timeout in seconds.
        retries: automatic resumes after a broken transfer.
        progress: show download progress on stderr.

    Returns:
        The file, the library it is for, its URL and size, and whether it was already there.
    """
    from cvtool.download import weights

    with quiet(not progress):
        target, fetched = weights.download_weights(
            name,
            out=as_optional_path(out, "out"),
            mirror=mirror,
            timeout=timeout,
            retries=retries,
        )
    return WeightsResult(
        fetched.path, target.name, target.library, fetched.url, fetched.size, fetched.skipped
    )
