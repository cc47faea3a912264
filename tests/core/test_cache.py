"""The decoded-sample cache: exact pixels, reuse, staleness, and clear refusals."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cvtool.classify.dataset import ClassificationDataset
from cvtool.core import cache as cache_module
from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.core.transforms import Preprocess, train_transform
from cvtool.segment.dataset import SegmentationDataset


def _decoded(ds: SegmentationDataset) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [ds.read(i) for i in range(len(ds))]


@pytest.mark.parametrize("mode", ["ram", "disk"])
def test_cached_samples_are_the_decoded_ones(seg_data: Path, mode: str) -> None:
    plain = SegmentationDataset(seg_data, "train")
    cached = SegmentationDataset(seg_data, "train")
    cached.use_cache(mode, workers=1, shared=False)
    assert cached.cache is not None and len(cached.cache) == len(plain)
    for (a_image, a_mask), (b_image, b_mask) in zip(_decoded(plain), _decoded(cached), strict=True):
        assert torch.equal(a_image, b_image) and torch.equal(a_mask, b_mask)
    assert (seg_data / ".cache" / "train.u8").is_file() == (mode == "disk")


def test_training_items_are_the_same_with_a_cache(seg_data: Path) -> None:
    transform = train_transform(Preprocess((36, 44), None), "standard")
    plain = SegmentationDataset(seg_data, "train", transform)
    cached = SegmentationDataset(seg_data, "train", transform)
    cached.use_cache("ram", workers=1, shared=True)
    for i in range(len(plain)):
        torch.manual_seed(i)
        a = plain[i]
        torch.manual_seed(i)
        b = cached[i]
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_loader_workers_read_a_shared_ram_cache(seg_data: Path) -> None:
    ds = SegmentationDataset(seg_data, "train")
    ds.use_cache("ram", workers=1, shared=True)
    loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=2)
    images = torch.cat([batch[0] for batch in loader])
    expected = torch.stack([SegmentationDataset(seg_data, "train")[i][0] for i in range(len(ds))])
    assert torch.equal(images, expected)


def test_classification_cache(cls_data: Path) -> None:
    plain, cached = ClassificationDataset(cls_data, "val"), ClassificationDataset(cls_data, "val")
    cached.use_cache("disk", workers=1)
    for i in range(len(plain)):
        assert torch.equal(plain[i][0], cached[i][0]) and plain[i][1] == cached[i][1]


def _fail(item):
    raise AssertionError(f"decoded {item.image} again")


def test_disk_cache_is_reused_and_rebuilt_when_stale(seg_data: Path, capsys) -> None:
    ds = SegmentationDataset(seg_data, "val")
    ds.use_cache("disk", workers=1)
    items = [cache_module.CacheItem(i.image, i.mask) for i in ds.items]
    key = {"num_classes": 3, "ignore": 255}
    again = cache_module.open_cache("disk", seg_data, "val", items, _fail, key, workers=1)
    assert again is not None and np.array_equal(again.image(1), ds.cache.image(1))
    # a valid disk cache also fills a ram cache without decoding
    ram = cache_module.open_cache("ram", seg_data, "val", items, _fail, key, 1, shared=False)
    assert np.array_equal(ram.mask(2), ds.cache.mask(2))

    changed = ds.items[1].image
    pixels = np.asarray(Image.open(changed).convert("RGB")).copy()
    pixels[:4] = 0
    Image.fromarray(pixels).save(changed)
    os.utime(changed, ns=(0, 10**18))  # a modification time no earlier write can have
    capsys.readouterr()
    ds.use_cache("disk", workers=1)
    err = capsys.readouterr().err
    assert "cache" in err and "is stale" in err and changed.name in err
    assert np.array_equal(ds.cache.image(1), np.asarray(Image.open(changed).convert("RGB")))
    with pytest.raises(AssertionError, match="decoded"):  # a changed class set is stale too
        cache_module.open_cache("disk", seg_data, "val", items, _fail, {"num_classes": 4}, 1)


def test_unknown_cache_mode(seg_data: Path) -> None:
    ds = SegmentationDataset(seg_data, "val")
    with pytest.raises(ParameterError, match="cache must be one of none, ram, disk, got 'gpu'"):
        ds.use_cache("gpu")


def test_ram_cache_too_big_is_refused(seg_data: Path, monkeypatch) -> None:
    import psutil

    class Tiny:
        available = 1000

    monkeypatch.setattr(psutil, "virtual_memory", lambda: Tiny())
    ds = SegmentationDataset(seg_data, "train")
    with pytest.raises(CvtoolError, match=r"cache='ram' .* needs .* but only") as err:
        ds.use_cache("ram", workers=1)
    assert err.value.param == "cache" and "`cache` disk" in err.value.hint


def test_disk_cache_needs_room_and_a_writable_place(seg_data: Path, monkeypatch) -> None:
    ds = SegmentationDataset(seg_data, "val")
    (seg_data / ".cache").write_text("a file where the cache directory should be")
    with pytest.raises(CvtoolError, match=r"cannot write the cache in .*\.cache") as err:
        ds.use_cache("disk", workers=1)
    assert "`cache` ram" in err.value.hint
    (seg_data / ".cache").unlink()

    class Full:
        free = 10

    monkeypatch.setattr(cache_module.shutil, "disk_usage", lambda path: Full())
    with pytest.raises(CvtoolError, match=r"cache='disk' .* needs .* but only 0.00 GiB"):
        ds.use_cache("disk", workers=1)
