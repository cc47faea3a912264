"""ONNX files: export a model with its metadata, and run one with ONNX Runtime as if it were a
PyTorch module (`OnnxModule`: `to`, `eval`, called on a float tensor, returns logits).

Export uses the TorchScript-based exporter (`dynamo=False`): it needs no extra package, and it
traces every registered model with dynamic batch, height and width axes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from cvtool.core.errors import CvtoolError
from cvtool.deploy.metadata import ModelInfo

INPUT, OUTPUT = "images", "logits"
OPSET = 17
EXTRA_HINT = "pip install 'cvtool[export]'"


def import_onnx() -> tuple[Any, Any]:
    """`(onnx, onnxruntime)`, or a CvtoolError naming the extra that installs them."""
    try:
        import onnx
        import onnxruntime
    except ImportError:
        raise CvtoolError(
            "ONNX export and inference need the onnx and onnxruntime packages",
            EXTRA_HINT,
            param="format",
        ) from None
    return onnx, onnxruntime


def export_onnx(model: Any, example: Any, info: ModelInfo, dynamic_size: bool, path: Path) -> None:
    """Write `model` traced on `example` to `path`, batch axis dynamic (and height and width
    when `dynamic_size`), with `info` as metadata_props."""
    import warnings

    import torch

    onnx, _ = import_onnx()
    axes = {0: "batch", 2: "height", 3: "width"} if dynamic_size else {0: "batch"}
    out_axes = (
        {0: "batch", 2: "height", 3: "width"} if info.task == "segmentation" else {0: "batch"}
    )
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shape arithmetic
        torch.onnx.export(
            model, (example,), buffer, input_names=[INPUT], output_names=[OUTPUT],
            dynamic_axes={INPUT: axes, OUTPUT: out_axes}, opset_version=OPSET, dynamo=False,
        )  # fmt: skip
    proto = onnx.load_from_string(buffer.getvalue())
    for key, value in info.to_metadata().items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.producer_name = "cvtool"
    onnx.save(proto, str(path))


def session_options(ort: Any) -> Any:
    """ONNX Runtime under the thread policy of `cvtool.core.threads`: as many intra-op threads
    as torch has (`--threads`, else the usable cores), no inter-op pool, and threads that sleep
    while they wait. ONNX Runtime's threads spin by default, which on a busy machine costs
    what OpenMP spinning costs torch (docs/performance.md)."""
    import torch

    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class OnnxModule:
    """An ONNX Runtime session behind the calls `cvtool.core.inference` makes on a model.

    Runs on the CUDA provider when asked for a CUDA device and ONNX Runtime has it, else on
    the CPU; inputs and outputs are float32 tensors on the caller's device."""

    def __init__(self, path: Path) -> None:
        _, ort = import_onnx()
        self.path = path
        try:
            self.session = ort.InferenceSession(
                str(path), session_options(ort), providers=["CPUExecutionProvider"]
            )
        except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph types
            raise CvtoolError(f"cannot load ONNX model {path}: {e}", param="model") from None
        self.input = self.session.get_inputs()[0].name
        meta = self.session.get_modelmeta().custom_metadata_map
        self.info = ModelInfo.from_metadata(dict(meta), str(path))
        shape = self.session.get_outputs()[0].shape
        channels = shape[1] if len(shape) > 1 and isinstance(shape[1], int) else None
        self.info.check_outputs(channels, str(path))

    def to(self, device: Any) -> OnnxModule:
        import onnxruntime as ort

        cuda = getattr(device, "type", "cpu") == "cuda"
        if cuda and "CUDAExecutionProvider" in ort.get_available_providers():
            self.session.set_providers(["CUDAExecutionProvider", "CPUExecutionProvider"])
        return self

    def eval(self) -> OnnxModule:
        return self

    def __call__(self, x: Any) -> Any:
        import torch

        try:
            (out, *_) = self.session.run(None, {self.input: x.detach().float().cpu().numpy()})
        except Exception as e:  # wrong rank or size for a fixed-size graph
            raise CvtoolError(
                f"ONNX model {self.path} refuses input of shape {tuple(x.shape)}: {e}"
            ) from None
        return torch.from_numpy(out).to(x.device)
