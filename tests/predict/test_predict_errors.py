"""Bad inputs: each gives a clear message, and nothing half-written is left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cvtool


def test_unreadable_image_is_skipped_and_listed(cli, seg_run, new_images, tmp_path) -> None:
    (new_images / "broken.png").write_bytes(b"not a png at all")
    out = tmp_path / "pred"
    result = cli("predict", seg_run, new_images, "--out", out, "--workers", 1)
    assert result.exit_code == 0, result.stderr
    assert "skipped" in result.stderr and "broken.png" in result.stderr
    assert len(list((out / "masks").glob("*.png"))) == 4
    skipped = json.loads((out / "predict.json").read_text())["skipped"]
    assert [Path(s["file"]).name for s in skipped] == ["broken.png"]
    assert "not a readable image" in skipped[0]["reason"]


def test_nothing_readable_writes_nothing(cli, seg_run, tmp_path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"")
    out = tmp_path / "pred"
    result = cli("predict", seg_run, folder, "--out", out)
    assert result.exit_code == 1
    assert "none of the 1 inputs" in result.stderr and "a.jpg" in result.stderr
    assert not out.exists() and list(tmp_path.glob(".pred*")) == []


def test_empty_folder(cli, seg_run, tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    result = cli("predict", seg_run, tmp_path / "empty", "--out", tmp_path / "pred")
    assert result.exit_code == 1
    assert "no images or videos in" in result.stderr and "hint:" in result.stderr
    assert not (tmp_path / "pred").exists()


def test_unknown_model_file(cli, new_images, tmp_path) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights?")
    result = cli("predict", model, new_images, "--out", tmp_path / "pred")
    assert result.exit_code == 1
    assert "unknown model file" in result.stderr and ".onnx" in result.stderr
    missing = cli("predict", tmp_path / "nope.onnx", new_images)
    assert missing.exit_code == 1 and "error: MODEL not found: " in missing.stderr


def test_video_that_cannot_be_opened(cli, seg_run, tmp_path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00" * 64)
    out = tmp_path / "pred"
    result = cli("predict", seg_run, video, "--out", out)
    assert result.exit_code == 1
    assert "cannot open video" in result.stderr and "clip.mp4" in result.stderr
    assert not out.exists()


def test_mismatched_onnx_metadata(seg_run, new_images, tmp_path) -> None:
    import onnx

    exported = cvtool.export(seg_run, "onnx", tmp_path / "unet.onnx")
    proto = onnx.load(str(exported.path))
    for entry in proto.metadata_props:
        if entry.key == "cvtool.classes":
            classes = json.loads(entry.value)
            entry.value = json.dumps([*classes, {"id": 3, "name": "extra", "color": [1, 2, 3]}])
    onnx.save(proto, str(tmp_path / "bad.onnx"))
    with pytest.raises(cvtool.CvtoolError) as error:
        cvtool.predict(tmp_path / "bad.onnx", new_images, tmp_path / "pred")
    assert "names 4 classes" in error.value.message and "outputs 3 logits" in error.value.message
    assert not (tmp_path / "pred").exists()
    del proto.metadata_props[:]
    onnx.save(proto, str(tmp_path / "bare.onnx"))
    with pytest.raises(cvtool.CvtoolError, match="has no cvtool metadata"):
        cvtool.predict(tmp_path / "bare.onnx", new_images, tmp_path / "pred")


def test_existing_output_is_kept_without_overwrite(seg_run, new_images, tmp_path) -> None:
    out = tmp_path / "pred"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(cvtool.CvtoolError) as error:
        cvtool.predict(seg_run, new_images, out)
    assert error.value.param == "out" and (out / "keep.txt").read_text() == "mine"


def test_default_output_dir_is_numbered(seg_run, new_images, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = cvtool.predict(seg_run, new_images, workers=1)
    second = cvtool.predict(seg_run, new_images, workers=1)
    assert (first.path, second.path) == (Path("runs/predict/unet"), Path("runs/predict/unet2"))
