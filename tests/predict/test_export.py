"""`export`: every registered model exports to ONNX (random init, small input) and matches
PyTorch; the metadata round-trips; failures write nothing and say why."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest
import torch

import cvtool
from cvtool.core.artifacts import ClassInfo
from cvtool.core.transforms import Preprocess
from cvtool.deploy.metadata import ModelInfo
from cvtool.engine.registry import MODELS

# ResNet-50 and VGG16-BN sized models take seconds each to trace on a CPU.
LARGE = {"segnet", "fcn_resnet50", "deeplabv3_resnet50", "smp-unet", "smp-deeplabv3plus"}


def _info(name: str, size: tuple[int, int]) -> ModelInfo:
    classes = [ClassInfo(i, f"c{i}", (i, i, i)) for i in range(3)]
    return ModelInfo(MODELS[name].task, name, classes, Preprocess(size=size))


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in LARGE else n for n in MODELS]
)
def test_every_registered_model_exports_to_onnx(name: str, tmp_path: Path) -> None:
    from cvtool.deploy.export import _parity, _runs_at
    from cvtool.deploy.onnx import OnnxModule, export_onnx

    spec = MODELS[name]
    quick = {p.name: p.quick for p in spec.params if p.quick is not None}
    torch.manual_seed(0)
    model = spec.build(3, **spec.kwargs(quick)).eval()
    size = (32, 32)
    with torch.no_grad():
        model(torch.zeros(1, 3, *size))  # materialise lazy layers
    second = (1, 3, 45, 51)
    dynamic = _runs_at(model, second)
    assert dynamic == (name != "convnet")  # the documented exception: a flatten + linear layer
    path = tmp_path / f"{name}.onnx"
    export_onnx(model, torch.randn(2, 3, *size), _info(name, size), dynamic, path)
    checks = _parity(model, OnnxModule(path), [(2, 3, *size), *([second] if dynamic else [])])
    assert max(diff for _, diff in checks) < 1e-4, checks


def test_metadata_round_trips() -> None:
    info = _info("unet", (32, 40))
    info.calibration = {"temperature": 1.5}
    back = ModelInfo.from_metadata(info.to_metadata(), "m.onnx")
    assert back == info


def test_parity_failure_writes_nothing(cli, seg_run, tmp_path, monkeypatch) -> None:
    from cvtool.deploy import export

    monkeypatch.setattr(export, "TOLERANCE", 0.0)
    out = tmp_path / "m.onnx"
    result = cli("export", seg_run, "--out", out)
    assert result.exit_code == 1
    assert "max |logit diff|" in result.stderr and "nothing was written" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_export_defaults_beside_the_checkpoint_and_refuses_to_overwrite(cli, seg_run) -> None:
    first = cli("export", seg_run, "--format", "torchscript")
    assert first.exit_code == 0, first.stderr
    path = seg_run / "checkpoints" / "best.torchscript"
    assert first.stdout.strip() == str(path) and path.is_file()
    again = cli("export", seg_run, "--format", "torchscript")
    assert again.exit_code == 1 and "already exists" in again.stderr
    assert "--overwrite" in again.stderr
    path.unlink()


def test_missing_onnx_names_the_extra(seg_run, tmp_path, monkeypatch) -> None:
    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name in ("onnx", "onnxruntime"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    with pytest.raises(cvtool.CvtoolError) as error:
        cvtool.export(seg_run, "onnx", tmp_path / "m.onnx")
    assert "cvtool[export]" in (error.value.hint or "")
    assert not (tmp_path / "m.onnx").exists()


def test_export_refuses_an_unknown_format_and_an_exported_file(seg_run, tmp_path) -> None:
    with pytest.raises(cvtool.ParameterError) as error:
        cvtool.export(seg_run, "tflite")
    assert error.value.param == "format"
    onnx_file = cvtool.export(seg_run, "onnx", tmp_path / "m.onnx").path
    with pytest.raises(cvtool.CvtoolError, match="not a training run or checkpoint"):
        cvtool.export(onnx_file, "onnx", tmp_path / "again.onnx")
