"""What the commands do beyond calling the library lives in the API: default output dirs, the
tables shown with `progress=True`, device checks, `describe_sequences` and the downloads."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

import cvtool
from cvtool.api.track import describe_sequences
from cvtool.synthetic.tracks import SyntheticConfig, write_sequence


@pytest.fixture
def mot_root(tmp_path: Path) -> Path:
    root = tmp_path / "mot"
    write_sequence(root, SyntheticConfig(frames=20, objects=3, width=320, height=240, seed=1))
    return root


def test_prepare_without_out_takes_a_numbered_run_dir(
    tmp_path, shapes_coco, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = (*shapes_coco, "circle")
    first = cvtool.prepare_coco(*args, include_empty=True, workers=1)
    second = cvtool.prepare_coco(*args, include_empty=True, workers=1)
    assert (first.path, second.path) == (Path("runs/prepare/coco"), Path("runs/prepare/coco2"))
    assert (tmp_path / second.path / "dataset.json").is_file()


def test_prepare_progress_shows_the_class_table(capfd, tmp_path, shapes_coco) -> None:
    cvtool.prepare_coco(*shapes_coco, "circle,star", tmp_path / "d", workers=1, progress=True)
    out, err = capfd.readouterr()
    assert out == "" and "ignore (255)" in err and "star" in err and "images" in err


def test_stats_progress_shows_the_table(capfd, shapes_data: Path) -> None:
    result = cvtool.dataset_stats(shapes_data, workers=1)
    assert capfd.readouterr() == ("", "")
    assert result.plot == shapes_data / "stats" / "class_distribution.png"
    cvtool.dataset_stats(shapes_data, workers=1, overwrite=True, progress=True)
    assert "pixels per class" in capfd.readouterr().err


def test_track_without_out_and_its_tables(
    capfd, tmp_path, mot_root, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run = cvtool.track_objects(mot_root, tracker="iou", progress=True)
    assert run.path == Path("runs/track/iou/iou") and run.config["max_lost"] == 5
    assert "iou: tracker speed" in capfd.readouterr().err
    scores = cvtool.evaluate_tracking(
        run.path.parent, mot_root, cross_check=False, plots=False, per_sequence=False
    )
    assert scores.path == Path("runs/track/iou") and capfd.readouterr() == ("", "")


def test_track_refuses_an_unavailable_detector_device(tmp_path, mot_root) -> None:
    import torch

    if torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    with pytest.raises(cvtool.ParameterError) as error:
        cvtool.track_objects(mot_root, tmp_path / "r", weights="w.pt", device="mps")
    assert error.value.param == "device"
    assert not (tmp_path / "r").exists()


def test_describe_sequences(capfd, tmp_path, mot_root) -> None:
    result = describe_sequences(str(mot_root), tmp_path / "info", seqs="SYN-01")
    assert capfd.readouterr() == ("", "")
    assert result.path == tmp_path / "info" and result.sequences[0]["frames"] == 20
    saved = json.loads((result.path / "info.json").read_text())["sequences"]
    assert saved == json.loads(json.dumps(result.to_dict()))["sequences"]


def test_download_weights_already_present(capfd, tmp_path) -> None:
    with zipfile.ZipFile(tmp_path / "yolov8m.pt", "w") as z:
        z.writestr("archive/data.pkl", b"x")
    result = cvtool.download_weights("yolov8m", tmp_path)
    assert capfd.readouterr() == ("", "")
    assert result.path == tmp_path / "yolov8m.pt" and result.skipped
    assert result.to_dict()["library"] == "ultralytics"


def test_download_dataset_names_the_parameter(tmp_path) -> None:
    with pytest.raises(cvtool.ParameterError) as error:
        cvtool.download_dataset("camvid", 3)  # type: ignore[arg-type]
    assert error.value.param == "out"
