"""Every registered tracker against the same contract, on an easy synthetic sequence.

A new entry in `cvtool.track.registry.TRACKERS` is picked up here without editing this file.
Trackers of an optional extra that is not installed (boxmot) are skipped.
"""

from __future__ import annotations

import typing
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from cvtool.core.errors import ParameterError
from cvtool.synthetic.tracks import SyntheticConfig, write_sequence
from cvtool.track.config import TrackerConfig
from cvtool.track.eval_runs import evaluate_runs
from cvtool.track.evaluate import load_results
from cvtool.track.registry import TRACKERS, make_config, make_tracker
from cvtool.track.run import run_tracker

# Few objects, every one detected with a confident, tight box, no false positives.
EASY = SyntheticConfig(
    frames=60,
    objects=5,
    box_noise=0.01,
    miss_rate=0.0,
    low_score_rate=0.0,
    occlusions=0,
    false_per_frame=0.0,
    seed=1,
)
SEQUENCES = ("EASY-01", "EASY-02")  # the same data twice: ids must restart for the second
AVAILABLE = [name for name, spec in TRACKERS.items() if spec.available()]
RUNNABLE = [
    pytest.param(name, marks=pytest.mark.skipif(not spec.available(), reason=f"no {spec.extra}"))
    for name, spec in TRACKERS.items()
]


@pytest.fixture(scope="module")
def easy_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("contract")
    seqs = [write_sequence(root / "data", EASY, name) for name in SEQUENCES]
    for name in AVAILABLE:
        run_tracker(seqs, name, root / "runs")
    return root / "data", root / "runs"


@pytest.mark.parametrize("name", RUNNABLE)
def test_output_is_valid_and_ids_restart_per_sequence(
    name: str, easy_runs: tuple[Path, Path]
) -> None:
    _, runs = easy_runs
    texts = [(runs / name / f"{seq}.txt").read_text() for seq in SEQUENCES]
    assert texts[0] and texts[0] == texts[1]
    rows = load_results(runs / name / f"{SEQUENCES[0]}.txt", EASY.frames)  # checks the format
    assert all(len(line.split(",")) == 10 for line in texts[0].splitlines())
    assert rows[:, 1].min() == 1
    assert (rows[:, 4:6] > 0).all()
    assert np.all(np.diff(rows[:, 0]) >= 0)  # sorted by frame


def test_every_tracker_scores_well_on_the_easy_sequence(easy_runs: tuple[Path, Path]) -> None:
    data, runs = easy_runs
    report = evaluate_runs([runs], data, runs, cross_check=False, plot=False)
    assert set(report.table) == set(AVAILABLE)
    for name, scores in report.combined().items():
        assert scores["HOTA"] > 80, name
        assert scores["MOTA"] > 90, name
        assert scores["IDSW"] <= 2, name


@pytest.mark.parametrize("name", list(TRACKERS))
def test_config_declares_its_settings(name: str) -> None:
    spec = TRACKERS[name]
    assert issubclass(spec.config, TrackerConfig) and spec.summary
    for f in fields(spec.config):
        assert f.metadata.get("help"), f"{name}: {f.name} has no help"
    hash(spec.config())  # frozen: safe to share between sequences and processes


@pytest.mark.parametrize("name", RUNNABLE)
def test_tracker_takes_an_empty_frame(name: str) -> None:
    spec = TRACKERS[name]
    tracker = make_tracker(name, spec.config(), frame_rate=30.0)
    image = (np.zeros((240, 320, 3), np.uint8),) if spec.frames else ()
    assert tracker.update(np.empty((0, 4)), np.empty(0), *image).shape == (0, 6)


def test_settings_shared_between_trackers_have_one_type() -> None:
    types: dict[str, object] = {}
    for spec in TRACKERS.values():
        for key, annotation in typing.get_type_hints(spec.config).items():
            assert types.setdefault(key, annotation) == annotation, key


@pytest.mark.parametrize("name", list(TRACKERS))
def test_every_setting_is_a_cli_option(cli, name: str) -> None:
    result = cli("track", "mot17", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for f in fields(TRACKERS[name].config):
        assert "--" + f.name.replace("_", "-") in text


def test_make_config_refuses_unknown_names_and_settings() -> None:
    with pytest.raises(ParameterError, match="unknown tracker 'nope'; choose one of: iou") as e:
        make_config("nope")
    assert e.value.param == "tracker"
    with pytest.raises(ParameterError, match="track_buffer is not a setting of the iou") as e:
        make_config("iou", track_buffer=30)
    assert e.value.param == "track_buffer"
    with pytest.raises(ParameterError, match="takes a ByteTrackConfig") as e:
        run_tracker([], "bytetrack", Path("unused"), config=make_config("iou"))
    assert e.value.param == "config"
