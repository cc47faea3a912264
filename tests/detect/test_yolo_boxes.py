"""`predict_boxes`, the one YOLO-results-to-boxes path, with a stand-in model (no ultralytics)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

from cvtool.core.errors import ParameterError
from cvtool.detect.yolo import (
    ImageEntry,
    YoloOptions,
    predict_boxes,
    predict_images,
    ultralytics_device,
)


class FakeModel:
    """Answers `predict` like ultralytics: one result per image, boxes as tensors."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def predict(self, sources: list[str], **kwargs: Any) -> list[SimpleNamespace]:
        self.calls.append({"sources": sources, **kwargs})
        return [self._result(int(Path(s).stem)) for s in sources]

    @staticmethod
    def _result(k: int) -> SimpleNamespace:
        xyxy = torch.tensor([[10.0 * k, 20.0, 10.0 * k + 5.5, 40.25]] * k, dtype=torch.float32)
        conf = torch.full((k,), 0.5 + k / 10)
        cls = torch.arange(k, dtype=torch.float32)
        return SimpleNamespace(boxes=SimpleNamespace(xyxy=xyxy, conf=conf, cls=cls))


def test_boxes_per_image_in_order_and_batched() -> None:
    model = FakeModel()
    images = [Path(f"{k}.jpg") for k in (0, 1, 2)]
    opts = YoloOptions(imgsz=(320, 480), conf=0.25, batch=2, device="cpu")
    boxes, seconds = predict_boxes(model, images, opts, classes=(0,))
    assert [c["sources"] for c in model.calls] == [["0.jpg", "1.jpg"], ["2.jpg"]]
    call = model.calls[0]
    assert (call["imgsz"], call["conf"], call["device"], call["classes"]) == (
        [320, 480],
        0.25,
        "cpu",
        [0],
    )
    assert seconds >= 0
    assert [len(b.scores) for b in boxes] == [0, 1, 2]
    assert boxes[0].xyxy.shape == (0, 4) and boxes[0].xywh.shape == (0, 4)
    np.testing.assert_array_equal(boxes[2].xywh, [[20, 20, 5.5, 20.25]] * 2)
    assert boxes[2].xywh.dtype == np.float64 and boxes[2].classes.tolist() == [0, 1]
    np.testing.assert_allclose(boxes[1].scores, [0.6], rtol=1e-6)


def test_coco_predictions_use_the_same_boxes() -> None:
    entries = [ImageEntry(7, Path("2.jpg"))]
    preds, _ = predict_images(FakeModel(), entries, {1: 3}, YoloOptions(device="cpu"))
    assert preds == [
        {"image_id": 7, "category_id": 3, "bbox": [20.0, 20.0, 5.5, 20.25], "score": 0.7}
    ]


def test_ultralytics_device_names(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ultralytics_device("cpu") == "cpu"
    with pytest.raises(ParameterError, match="not a device name") as e:
        ultralytics_device("gpu0")
    assert e.value.param == "device"
    import cvtool.core.device

    monkeypatch.setattr(cvtool.core.device, "resolve_device", lambda d: torch.device("cuda:1"))
    assert ultralytics_device("cuda:1") == "1"
    monkeypatch.setattr(cvtool.core.device, "resolve_device", lambda d: torch.device("mps"))
    assert ultralytics_device(None) == "mps"
