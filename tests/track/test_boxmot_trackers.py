"""The boxmot trackers: settings that mirror boxmot's own, frames, ids, and clear errors."""

from __future__ import annotations

import inspect
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.synthetic.tracks import SyntheticConfig, write_sequence
from cvtool.track.boxmot_config import BoxmotConfig
from cvtool.track.boxmot_tracker import boxmot_kwargs
from cvtool.track.frames import SequenceFrames
from cvtool.track.registry import TRACKERS, make_config, make_tracker
from cvtool.track.run import run_tracker

BOXMOT = [name for name, spec in TRACKERS.items() if spec.extra == "boxmot"]


@pytest.mark.parametrize("name", BOXMOT)
def test_settings_are_the_trackers_own_parameters(name: str) -> None:
    boxmot = pytest.importorskip("boxmot")
    spec = TRACKERS[name]
    assert issubclass(spec.config, BoxmotConfig)
    class_name = spec.config.BOXMOT_CLASS
    tracker_class = getattr(boxmot, class_name)
    params = {}
    for klass in reversed(tracker_class.__mro__):  # base-tracker keywords, then the class's own
        if "__init__" in vars(klass):
            params.update(inspect.signature(klass.__init__).parameters)
    for key, value in boxmot_kwargs(spec.config()).items():
        assert key in params, f"{name}: boxmot's {class_name} has no parameter {key}"
        assert params[key].default == value, f"{name}: {key} default differs from boxmot's"


def test_missing_boxmot_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boxmot", None)  # import boxmot now raises ImportError
    with pytest.raises(CvtoolError, match="needs the boxmot package") as error:
        make_tracker("ocsort", None, 30.0)
    assert "cvtool[boxmot]" in error.value.hint and error.value.param == "tracker"


def test_refused_setting_and_bad_scores() -> None:
    pytest.importorskip("boxmot")
    with pytest.raises(ParameterError, match="refuses these settings"):
        make_tracker("ocsort", make_config("ocsort", asso_func="nope"), 30.0)
    tracker = make_tracker("ocsort", None, 30.0)
    with pytest.raises(CvtoolError, match=r"scores in \[0, 1\]; got scores from 0.5 to 3"):
        tracker.update(np.array([[1.0, 2, 10, 20], [5, 5, 10, 20]]), np.array([0.5, 3.0]))


def test_ids_start_at_one_and_boxes_without_area_are_dropped() -> None:
    pytest.importorskip("boxmot")
    tracker = make_tracker("botsort", None, 30.0)  # boxmot numbers from 0
    frame = np.zeros((100, 200, 3), np.uint8)
    boxes = np.array([[10.0, 10, 20, 40], [100, 10, 0, 40]])
    for _ in range(3):
        rows = tracker.update(boxes, np.array([0.9, 0.9]), frame)
    np.testing.assert_allclose(rows, [[1, 10, 10, 20, 40, 0.9]], atol=1e-4)


def test_frames_come_from_img1_else_blank(tmp_path: Path) -> None:
    seq = write_sequence(tmp_path, SyntheticConfig(frames=6, objects=2, width=320, height=240))
    (seq.path / "img1").mkdir()
    Image.new("RGB", (320, 240), (0, 0, 255)).save(seq.frame_path(2))
    frames = SequenceFrames(seq)
    assert frames(1).shape == (240, 320, 3) and not frames(1).any()
    assert frames(2)[0, 0].tolist() == [254, 0, 0]  # BGR (JPEG rounds 255 to 254)


def test_run_tracker_checks_the_tracker_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "boxmot", None)
    with pytest.raises(CvtoolError, match="needs the boxmot package"):
        run_tracker([], "botsort", tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_settings_have_ranges_and_no_appearance_options() -> None:
    for name in BOXMOT:
        config = TRACKERS[name].config
        names = {f.name for f in fields(config)}
        assert not names & {"use_embeddings", "reid_weights", "reid_model", "device", "half"}
        for f in fields(config):
            numeric = f.type in ("int", "float")
            assert not numeric or f.metadata["bounds"] is not None, f"{name}: {f.name}"
    with pytest.raises(ParameterError, match=r"det_thresh must be a number in 0\.\.1") as error:
        make_config("ocsort", det_thresh=1.5)
    assert error.value.param == "det_thresh"
