"""Models beyond the registry contract (`test_registries.py`): classifier input sizes, U-Net and
SegNet structure, freezing, registry errors, weights loading."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
import torch

from cvtool.core.errors import CvtoolError
from cvtool.engine.registry import MODELS, build_model, get_spec, rebuild_kwargs

CLS_MODELS = [n for n, s in MODELS.items() if s.task == "classification"]


def _small_kwargs(name: str) -> dict:
    if name == "unet":
        return {"width": 8}
    return {"pretrained": False} if MODELS[name].pretrained else {}


@pytest.mark.parametrize("name", CLS_MODELS)
@pytest.mark.parametrize("size", [(32, 32), (45, 61)])
def test_classifier_logits(name: str, size: tuple[int, int]) -> None:
    model = build_model(name, num_classes=4, **_small_kwargs(name))
    logits = model(torch.randn(2, 3, *size))
    assert logits.shape == (2, 4)
    logits.sum().backward()


def test_convnet_features_are_128x14x14_at_224() -> None:
    from cvtool.classify.models import ConvNet

    assert ConvNet(10).features(torch.randn(1, 3, 224, 224)).shape == (1, 128, 14, 14)


@pytest.mark.parametrize("upsample", ["transpose", "bilinear"])
def test_unet_binary_360x480_and_width(upsample: str) -> None:
    model = build_model("unet", num_classes=2, width=4, upsample=upsample)
    assert model.inc[0].out_channels == 4 and model.head.out_channels == 2
    with torch.no_grad():
        probs = model(torch.randn(1, 3, 360, 480)).softmax(1)
    assert probs.shape == (1, 2, 360, 480)
    torch.testing.assert_close(probs.sum(1), torch.ones(1, 360, 480))


def test_unet_rejects_unknown_upsample() -> None:
    with pytest.raises(ValueError, match="upsample"):
        build_model("unet", num_classes=2, upsample="nearest")


def test_segnet_unpools_with_encoder_indices() -> None:
    from cvtool.segment.models.segnet import SegNet

    model = SegNet(3)
    assert len(model.encoder) == len(model.decoder) == 5
    assert [sum(isinstance(m, torch.nn.Conv2d) for m in s) for s in model.encoder] == [
        2, 2, 3, 3, 3,
    ]  # fmt: skip


def test_freeze_options_leave_only_the_head_trainable() -> None:
    seg = build_model("segnet", 3, pretrained=False, freeze_encoder=True)
    assert not any(p.requires_grad for p in seg.encoder.parameters())
    assert all(p.requires_grad for p in seg.decoder.parameters())
    cls = build_model("resnet18", 3, pretrained=False, freeze_backbone=True)
    assert [n for n, p in cls.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]


def test_registry_key_error_lists_valid_names() -> None:
    with pytest.raises(KeyError, match="valid names: unet, segnet"):
        get_spec("unet3d")


def test_rebuild_kwargs_drop_weights() -> None:
    kw = {"pretrained": True, "weights": "x.pth", "encoder": "resnet34"}
    assert rebuild_kwargs(kw) == {"pretrained": False, "weights": None, "encoder": "resnet34"}


@pytest.mark.parametrize(
    ("name", "kwargs", "needle"),
    [
        ("fcn_resnet50", {}, "resnet50-0676ba61.pth"),
        ("segnet", {}, "vgg16_bn-6c64b313.pth"),
        ("resnet18", {}, "resnet18-f37072fd.pth"),
        ("smp-unet", {"encoder": "efficientnet-b0"}, "efficientnet-b0"),
    ],
)
def test_pretrained_offline_fails_at_once(monkeypatch, tmp_path, name, kwargs, needle) -> None:
    def offline(*args, **kw):
        raise OSError("Name or service not known")

    monkeypatch.setattr(socket, "create_connection", offline)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    start = time.perf_counter()
    with pytest.raises(CvtoolError) as err:
        build_model(name, 3, pretrained=True, **kwargs)
    assert time.perf_counter() - start < 10
    assert needle in err.value.message
    assert "`pretrained=False`" in err.value.hint and "`weights`" in err.value.hint


def test_local_weights_file_loads_into_backbone(tmp_path: Path) -> None:
    from torchvision.models import resnet18

    source = resnet18(weights=None)
    torch.save(source.state_dict(), tmp_path / "r18.pth")
    model = build_model("resnet18", 3, weights=tmp_path / "r18.pth")
    torch.testing.assert_close(model.conv1.weight, source.conv1.weight)
    torch.testing.assert_close(model.layer4[1].bn2.running_var, source.layer4[1].bn2.running_var)
    assert model.fc.out_features == 3


def test_segnet_loads_vgg16_bn_weights(tmp_path: Path) -> None:
    from torchvision.models.vgg import cfgs, make_layers

    features = make_layers(cfgs["D"], batch_norm=True)  # torchvision's vgg16_bn.features
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    torch.save(state, tmp_path / "vgg.pth")
    model = build_model("segnet", 4, weights=tmp_path / "vgg.pth")
    torch.testing.assert_close(model.encoder[0][0].weight, features[0].weight)
    torch.testing.assert_close(model.encoder[4][7].bias, features[41].bias)  # last BN


def test_weights_file_of_another_model_is_rejected(tmp_path: Path) -> None:
    torch.save(torch.nn.Linear(2, 2).state_dict(), tmp_path / "other.pth")
    with pytest.raises(CvtoolError, match="do not fit this model"):
        build_model("fcn_resnet50", 3, weights=tmp_path / "other.pth")
    with pytest.raises(CvtoolError, match="weights file not found"):
        build_model("resnet18", 3, weights=tmp_path / "missing.pth")
