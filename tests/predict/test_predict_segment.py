"""`predict` with a segmentation model: masks at each input's size, identical to `evaluate
--save-masks` on a dataset's test images, the same through ONNX; tiles, flip TTA, confidence
maps and videos."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import cvtool
from cvtool.segment.predict import window_starts
from tests.predict.conftest import link_split_images


def _masks(folder: Path) -> dict[str, np.ndarray]:
    return {p.name: np.asarray(Image.open(p)) for p in sorted(folder.glob("*.png"))}


def test_folder_of_new_images_gives_one_mask_per_image_at_its_size(
    cli, seg_run: Path, new_images: Path, tmp_path: Path
) -> None:
    out = tmp_path / "pred"
    result = cli("predict", seg_run, new_images, "--out", out, "--workers", 1, "--confidence")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(out)
    masks = _masks(out / "masks")
    assert sorted(masks) == ["img_0.png", "img_1.png", "img_2.png", "img_3.png"]
    for name, mask in masks.items():
        source = next(new_images.glob(Path(name).stem + ".*"))
        width, height = Image.open(source).size
        assert mask.shape == (height, width) and mask.dtype == np.uint8 and mask.max() <= 2
        overlay = Image.open(out / "overlays" / name)
        assert overlay.mode == "RGB" and overlay.size == (width, height)
        assert np.asarray(Image.open(out / "confidence" / name)).min() >= 255 // 3  # >= 1/3
    manifest = json.loads((out / "predict.json").read_text())
    assert manifest["images"] == 4 and manifest["skipped"] == [] and manifest["model"]["task"]


def test_test_split_masks_are_those_of_evaluate_save_masks(seg_run: Path, tmp_path: Path):
    data = Path(json.loads((seg_run / "run.json").read_text())["dataset"])
    evaluated = cvtool.evaluate(seg_run, split="test", out=tmp_path / "eval", save_masks=True,
                                device="cpu", workers=1)  # fmt: skip
    test_images = tmp_path / "test_images"
    names = link_split_images(data, "test", test_images)
    predicted = cvtool.predict(seg_run, test_images, tmp_path / "pred", device="cpu", workers=1)
    expected, got = _masks(evaluated.path / "masks"), _masks(predicted.path / "masks")
    assert sorted(got) == sorted(expected) and len(got) == len(names)
    for name in expected:
        assert np.array_equal(got[name], expected[name]), name
    # the predicted masks score as evaluate's own predictions
    scored = cvtool.evaluate_predictions(predicted.path / "masks", data, out=tmp_path / "scored")
    assert scored.headline["miou"] == pytest.approx(evaluated.headline["miou"])


def test_onnx_export_predicts_the_same_masks(seg_run: Path, new_images: Path, tmp_path: Path):
    exported = cvtool.export(seg_run, "onnx", tmp_path / "unet.onnx")
    assert exported.dynamic_size and exported.max_abs_diff < 1e-4
    torch_masks = cvtool.predict(seg_run, new_images, tmp_path / "torch", workers=1)
    onnx_masks = cvtool.predict(exported.path, new_images, tmp_path / "onnx", workers=1)
    a, b = _masks(torch_masks.path / "masks"), _masks(onnx_masks.path / "masks")
    assert a.keys() == b.keys()
    agreement = np.mean([np.mean(a[k] == b[k]) for k in a])
    assert agreement >= 0.999


def test_onnx_runtime_follows_the_thread_policy(seg_run: Path, tmp_path: Path, monkeypatch):
    import onnxruntime as ort

    from cvtool.core.threads import set_threads
    from cvtool.deploy.onnx import OnnxModule

    exported = cvtool.export(seg_run, "onnx", tmp_path / "unet.onnx")
    made = []
    real = ort.InferenceSession
    monkeypatch.setattr(ort, "InferenceSession", lambda *a, **k: made.append(a[1]) or real(*a, **k))
    before = set_threads(None)
    try:
        set_threads(1)
        OnnxModule(exported.path)
    finally:
        set_threads(before)
    (options,) = made
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (1, 1)
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_tiles_and_flip_tta_keep_the_input_size(seg_run, new_images, tmp_path) -> None:
    result = cvtool.predict(seg_run, new_images, tmp_path / "t", tile=True, tile_size="16x24",
                            overlap=0.5, tta="flip", batch_size=3, workers=1)  # fmt: skip
    for name, mask in _masks(result.path / "masks").items():
        width, height = Image.open(next(new_images.glob(Path(name).stem + ".*"))).size
        assert mask.shape == (height, width)
    with pytest.raises(cvtool.ParameterError) as error:
        cvtool.predict(seg_run, new_images, tmp_path / "x", tta="rotate")
    assert error.value.param == "tta"


def test_window_starts_cover_the_axis_like_mmsegmentation() -> None:
    assert window_starts(10, 4, 3) == [0, 3, 6]
    assert window_starts(11, 4, 3) == [0, 3, 6, 7]  # the last window ends at the border
    assert window_starts(3, 4, 3) == [0]  # smaller than a window: one, padded


def test_slide_logits_of_a_pointwise_model_equal_the_whole_image() -> None:
    """Each pixel's logit is the same in every window, so the count-map average is exact."""
    from cvtool.core.inference import Inference
    from cvtool.segment.predict import slide_logits

    torch.manual_seed(0)
    model = torch.nn.Conv2d(3, 4, 1).eval()
    image = torch.randn(3, 29, 41)
    run = Inference(batch_size=2, device=torch.device("cpu"))
    tiled = slide_logits(model, image, (8, 12), 1 / 3, run)
    with torch.no_grad():
        whole = model(image[None])
    assert tiled.shape == whole.shape
    assert torch.allclose(tiled, whole, atol=1e-6)


def test_video_gives_an_overlay_video(seg_run: Path, tmp_path: Path) -> None:
    from fractions import Fraction

    from cvtool.core.video import VideoWriter, open_video

    rng = np.random.default_rng(0)
    with VideoWriter(tmp_path / "clip.mp4", Fraction(5)) as writer:
        for _ in range(6):
            writer.write(rng.integers(0, 255, (36, 44, 3), dtype=np.uint8))
    result = cvtool.predict(seg_run, tmp_path / "clip.mp4", tmp_path / "pred", batch_size=4)
    assert (result.images, result.frames) == (0, 6)
    with open_video(result.path / "overlays" / "clip.mp4") as video:
        frames = list(video)
    assert len(frames) == 6 and frames[0].shape == (36, 44, 3)
