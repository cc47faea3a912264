"""Official datasets and pretrained weights: resumable, verified downloads (`cvtool download`)."""

from cvtool.download.catalogue import DATASETS, YOLO_WEIGHTS
from cvtool.download.datasets import DatasetDownload, download_dataset
from cvtool.download.weights import download_weights, resolve_weights

__all__ = [
    "DATASETS",
    "YOLO_WEIGHTS",
    "DatasetDownload",
    "download_dataset",
    "download_weights",
    "resolve_weights",
]
