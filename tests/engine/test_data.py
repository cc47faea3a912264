"""Datasets over prepared dirs, joint transforms, label statistics and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cvtool.classify.dataset import ClassificationDataset
from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.core.transforms import Preprocess, eval_transform, parse_size, train_transform
from cvtool.engine.data import label_stats, open_dataset
from cvtool.segment.dataset import SegmentationDataset


def _mask(root: Path, name: str) -> np.ndarray:
    return np.asarray(Image.open(root / "masks" / f"{Path(name).stem}.png"))


def test_segmentation_dataset_items_and_names(seg_data: Path) -> None:
    ds = SegmentationDataset(seg_data, "val")
    assert len(ds) == 4 and ds.file_name(1) == "val_01.jpg"
    image, mask = ds[1]
    assert image.shape == (3, 36, 44) and image.dtype == torch.float32
    assert image.min() >= 0 and image.max() <= 1
    assert mask.dtype == torch.long
    np.testing.assert_array_equal(mask.numpy(), _mask(seg_data, "val_01.jpg"))


def test_eval_transform_resizes_masks_with_nearest(seg_data: Path) -> None:
    ds = SegmentationDataset(seg_data, "train", eval_transform(size=(18, 22), crop=16))
    image, mask = ds[0]
    assert image.shape == (3, 16, 16) and mask.shape == (16, 16)
    original = torch.from_numpy(_mask(seg_data, ds.file_name(0)).astype(np.int64))
    # nearest neighbour: no new label values, and ignore stays 255
    assert set(mask.unique().tolist()) <= set(original.unique().tolist())
    # normalisation with ImageNet mean/std
    raw = SegmentationDataset(
        seg_data, "train", eval_transform(size=(18, 22), crop=16, mean=(0, 0, 0), std=(1, 1, 1))
    )[0][0]
    expected = (raw - torch.tensor([0.485, 0.456, 0.406])[:, None, None]) / torch.tensor(
        [0.229, 0.224, 0.225]
    )[:, None, None]
    torch.testing.assert_close(image, expected)


@pytest.mark.parametrize("preset", ["flip", "standard", "strong"])
def test_train_transform_keeps_labels_valid(seg_data: Path, preset: str) -> None:
    torch.manual_seed(0)
    ds = SegmentationDataset(seg_data, "train", train_transform(Preprocess(24, 24), preset))
    for i in range(len(ds)):
        image, mask = ds[i]
        assert image.shape == (3, 24, 24) and mask.shape == (24, 24)
        assert set(mask.unique().tolist()) <= {0, 1, 2, 255}


def test_augmentation_needs_fixed_size() -> None:
    with pytest.raises(CvtoolError, match="fixed image size"):
        train_transform(Preprocess(32, None), "standard")


def test_parse_size() -> None:
    assert parse_size("256") == 256 and parse_size("180x240") == (180, 240)
    assert parse_size("") is None
    assert parse_size(32) == 32 and parse_size((32, 48)) == (32, 48) and parse_size(None) is None
    for bad in ("12x", "0", (32, 0), 2.5, True):
        with pytest.raises(ParameterError, match="size must be N or HxW") as err:
            parse_size(bad)
        assert err.value.param == "size"


def test_label_stats_exact(seg_data: Path) -> None:
    ds = SegmentationDataset(seg_data, "train")
    stats = label_stats(ds, workers=1)
    masks = [_mask(seg_data, n) for n in ds.names]
    expected = sum(np.bincount(m[m != 255], minlength=3) for m in masks)
    np.testing.assert_array_equal(stats.pixels, expected)
    present = np.array([[(m == c).any() for c in range(3)] for m in masks])
    np.testing.assert_array_equal(stats.present, present)
    labelled = np.array([(m != 255).sum() for m in masks])
    np.testing.assert_array_equal(stats.image_pixels, (present * labelled[:, None]).sum(0))


def test_classification_dataset(cls_data: Path) -> None:
    ds = open_dataset(cls_data, "train", eval_transform(size=(16, 16)))
    assert isinstance(ds, ClassificationDataset) and len(ds) == 8
    image, label = ds[4]
    assert image.shape == (3, 16, 16) and label.item() == 1
    assert ds.file_name(4) == "images/b/train_4.png"
    assert label_stats(ds).pixels.tolist() == [3, 3, 2]


def test_missing_manifest(tmp_path: Path) -> None:
    (tmp_path / "raw").mkdir()
    with pytest.raises(CvtoolError, match=r"no dataset\.json"):
        SegmentationDataset(tmp_path / "raw", "train")


def test_empty_split(seg_data: Path) -> None:
    (seg_data / "splits" / "val.txt").write_text("\n")
    with pytest.raises(CvtoolError, match=r"split 'val' .* is empty"):
        SegmentationDataset(seg_data, "val")


def test_mask_with_class_id_above_class_count_names_the_file(seg_data: Path) -> None:
    name = (seg_data / "splits" / "train.txt").read_text().split()[3]
    path = seg_data / "masks" / f"{Path(name).stem}.png"
    mask = np.asarray(Image.open(path)).copy()
    mask[5, 5] = 7
    Image.fromarray(mask).save(path)
    ds = SegmentationDataset(seg_data, "train")
    with pytest.raises(CvtoolError, match=rf"{path.name} contains class id 7.*3 classes"):
        ds[3]
    with pytest.raises(CvtoolError, match="contains class id 7"):
        label_stats(ds, workers=1)


def test_rgb_mask_and_missing_image_are_reported(seg_data: Path) -> None:
    ds = SegmentationDataset(seg_data, "val")
    Image.new("RGB", (44, 36)).save(ds.mask_path(0))
    with pytest.raises(CvtoolError, match="RGB image, not a single-channel"):
        ds[0]
    (seg_data / "images" / ds.file_name(1)).unlink()
    with pytest.raises(CvtoolError, match="image not found"):
        ds[1]


def test_classification_csv_errors(cls_data: Path) -> None:
    csv = cls_data / "splits" / "val.csv"
    csv.write_text("path,label\nimages/a/x.png,zebra\n")
    with pytest.raises(CvtoolError, match="line 2: label 'zebra'"):
        ClassificationDataset(cls_data, "val")
    csv.write_text("file,class\n")
    with pytest.raises(CvtoolError, match="path,label"):
        ClassificationDataset(cls_data, "val")


def test_task_mismatch(cls_data: Path) -> None:
    with pytest.raises(CvtoolError, match="classification dataset, not segmentation"):
        SegmentationDataset(cls_data, "train")
