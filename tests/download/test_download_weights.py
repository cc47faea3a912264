"""`cvtool download weights NAME`: files land where torchvision and Ultralytics look for them.

The libraries themselves are the oracle: after the download, `torch.hub` and Ultralytics find
the file in their caches without touching the network.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from download_mirror import MirrorServer, make_zip, noise

from cvtool.core.errors import CvtoolError
from cvtool.core.ultralytics_env import import_ultralytics
from cvtool.download import weights as weights_module
from cvtool.download.catalogue import YOLO_WEIGHTS, Checksum, Source
from cvtool.download.weights import resolve_weights


@pytest.fixture
def torch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch"


def test_torchvision_name_resolves_to_official_url_and_hub_cache(torch_home: Path) -> None:
    target = resolve_weights("resnet18")
    assert target.source.url == "https://download.pytorch.org/models/resnet18-f37072fd.pth"
    assert target.source.checksum == Checksum(
        "sha256", "f37072fd", "torchvision (sha256 prefix in the file name)"
    )
    assert target.cache_dir == torch_home / "hub" / "checkpoints"
    enum = resolve_weights("ResNet50_Weights.IMAGENET1K_V1")
    assert enum.source.url == "https://download.pytorch.org/models/resnet50-0676ba61.pth"


@pytest.mark.parametrize("name", ["nonexistent", "ResNet50_Weights.NOPE", "Foo_Weights.X"])
def test_unknown_weights_list_the_choices(name: str) -> None:
    with pytest.raises(CvtoolError) as err:
        resolve_weights(name)
    assert repr(name) in err.value.message and "yolov8n.pt" in (err.value.hint or "")


@pytest.mark.slow
def test_torchvision_weights_are_found_by_torch_hub_offline(
    cli, mirror: MirrorServer, torch_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    state = {"weight": torch.arange(6.0).reshape(2, 3)}
    buf = io.BytesIO()
    torch.save(state, buf)
    data = buf.getvalue()
    prefix = hashlib.sha256(data).hexdigest()[:8]
    url = f"https://download.pytorch.org/models/tiny-{prefix}.pth"
    mirror.add(url, data)
    source = Source(url, checksum=Checksum("sha256", prefix, "test"))
    monkeypatch.setattr(weights_module, "torchvision_source", lambda name: source)

    result = cli("download", "weights", "tiny")
    assert result.exit_code == 0, result.stderr
    path = torch_home / "hub" / "checkpoints" / f"tiny-{prefix}.pth"
    assert result.stdout.strip().splitlines()[-1] == str(path)
    mirror.files.clear()  # torch.hub must not need the network any more
    loaded = torch.hub.load_state_dict_from_url(url, check_hash=True, weights_only=True)
    assert torch.equal(loaded["weight"], state["weight"])


def test_torchvision_checksum_mismatch_leaves_cache_clean(
    cli, mirror: MirrorServer, torch_home: Path
) -> None:
    mirror.add("https://download.pytorch.org/models/resnet18-f37072fd.pth", noise(5000))
    result = cli("download", "weights", "resnet18")
    assert result.exit_code == 1
    assert "resnet18-f37072fd.pth" in result.stderr
    assert "sha256: expected f37072fd" in result.stderr
    checkpoints = torch_home / "hub" / "checkpoints"
    assert not checkpoints.exists() or list(checkpoints.iterdir()) == []


@pytest.mark.slow
def test_yolo_weights_are_found_by_ultralytics_offline(
    cli, mirror: MirrorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_ultralytics()  # before any other import of it: keeps PIL.Image.open unpatched
    import ultralytics.utils
    from ultralytics.utils.downloads import attempt_download_asset

    weights_dir = tmp_path / "weights"
    monkeypatch.setattr(ultralytics.utils, "SETTINGS", {"weights_dir": weights_dir})
    monkeypatch.chdir(tmp_path)  # not where the file goes: Ultralytics must find it by itself
    data = make_zip({"archive/data.pkl": noise(4000)})
    mirror.add(YOLO_WEIGHTS["yolov8n.pt"].url, data)

    result = cli("download", "weights", "yolov8n", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (
        summary["path"] == str(weights_dir / "yolov8n.pt") and summary["library"] == "ultralytics"
    )
    assert (weights_dir / "yolov8n.pt").read_bytes() == data
    mirror.files.clear()
    assert attempt_download_asset("yolov8n.pt") == str(weights_dir / "yolov8n.pt")


def test_yolo_file_that_is_not_a_checkpoint_is_deleted(
    cli, mirror: MirrorServer, tmp_path: Path
) -> None:
    mirror.add(YOLO_WEIGHTS["yolov8s.pt"].url, b"<html>rate limited</html>")
    result = cli("download", "weights", "yolov8s.pt", "--out", tmp_path)
    assert result.exit_code == 1
    assert "yolov8s.pt" in result.stderr and "not a PyTorch checkpoint" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_yolo_already_present_is_not_fetched(cli, mirror: MirrorServer, tmp_path: Path) -> None:
    data = make_zip({"archive/data.pkl": b"x"})
    (tmp_path / "yolov8m.pt").write_bytes(data)
    result = cli("download", "weights", "yolov8m.pt", "--out", tmp_path, "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["skipped"] is True
    assert mirror.log == []


def test_list_shows_every_source(cli) -> None:
    result = cli("download", "list", "--json")
    assert result.exit_code == 0
    files = json.loads(result.stdout)["files"]
    assert {f["name"] for f in files} == {
        "coco-val2017",
        "voc2012",
        "camvid",
        "mot17",
        *YOLO_WEIGHTS,
    }
    voc = next(f for f in files if f["name"] == "voc2012")
    assert voc["checksum"] == "md5:6cd6e144f989b92b3379bac3b3de84fd" and voc["bytes"] == 1999639040
