"""Ctrl-C, SIGTERM and SIGKILL while worker processes are busy: the command stops within
seconds even when a worker is stuck where no signal but SIGKILL reaches it, prints one line,
keeps nothing half-written, and leaves no worker running.

Each command runs in a session of its own with one function hanging in its workers
(stuck_worker.py). Ctrl-C goes to the whole process group, as a terminal sends it; SIGTERM and
SIGKILL go to the command alone, as `kill` and supervisors send them. The DataLoader's death
signal is checked on a forked process iterating a loader (no command: torch loads slowly).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest
import torch
from corpus import coco_raw, disk_state
from processes import StuckRun, assert_gone, error_lines

from cvtool.engine.loader import WorkerLoader
from tests.segment.conftest import label_masks, noisy_predictions, write_dataset, write_predictions

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="process groups and the death signal: Linux"
)
# A stuck worker is killed one second after SIGTERM; the rest is slack for a loaded machine.
PROMPT_S = 5.0
INTERRUPTED = "error: interrupted; nothing half-written was kept"


def _stuck_prepare(tmp_path: Path) -> tuple[StuckRun, Path]:
    raw = coco_raw(tmp_path / "raw")
    annotations = raw.write()
    out = tmp_path / "out"
    run = StuckRun.start(
        tmp_path, "cvtool.formats.coco:_prepare_image", "deaf",
        "prepare", "coco", "--annotations", annotations, "--images", raw.root / "images",
        "--classes", "person,car", "--workers", 2, "--out", out,
    )  # fmt: skip
    return run, out


def _nothing_written(tmp_path: Path, out: Path) -> None:
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith((".", out.name))]
    assert leftovers == [], f"left behind: {leftovers}"


@pytest.mark.parametrize(
    ("signum", "group", "code", "line"),
    [
        (signal.SIGINT, True, 130, INTERRUPTED),
        (signal.SIGTERM, False, 143, "error: terminated; nothing half-written was kept"),
    ],
    ids=["ctrl-c", "sigterm"],
)
def test_a_prepare_with_stuck_workers_stops_at_once(
    tmp_path: Path, signum: int, group: bool, code: int, line: str
) -> None:
    run, out = _stuck_prepare(tmp_path)
    workers = run.stuck_workers(2)
    inputs = disk_state(tmp_path / "raw")
    exit_code, seconds = run.signal(signum, group)
    err = run.stderr
    assert exit_code == code, err
    assert seconds < PROMPT_S, f"took {seconds:.1f} s to exit"
    assert error_lines(err) == [line], err
    assert "Traceback" not in err and "Process" not in err, err
    _nothing_written(tmp_path, out)
    assert disk_state(tmp_path / "raw") == inputs
    assert_gone(workers, within=1.0)


def test_workers_die_with_a_killed_prepare(tmp_path: Path) -> None:
    run, _ = _stuck_prepare(tmp_path)
    workers = run.stuck_workers(2)
    exit_code, _ = run.signal(signal.SIGKILL, group=False)
    assert exit_code == -signal.SIGKILL
    assert_gone(workers, within=3.0)


def _stuck_evaluate(tmp_path: Path) -> tuple[StuckRun, Path]:
    masks = label_masks()
    data = write_dataset(tmp_path / "data", masks)
    preds = write_predictions(tmp_path / "preds", noisy_predictions(masks))
    out = tmp_path / "eval"
    run = StuckRun.start(
        tmp_path, "cvtool.segment.evaluate:load_prediction_pair", "deaf",
        "evaluate", "--predictions", preds, "--data", data, "--workers", 2, "--out", out,
    )  # fmt: skip
    return run, out


def test_ctrl_c_during_evaluate_prints_one_line(tmp_path: Path) -> None:
    run, out = _stuck_evaluate(tmp_path)
    workers = run.stuck_workers(2)
    exit_code, seconds = run.signal(signal.SIGINT, group=True)
    err = run.stderr
    assert exit_code == 130, err
    assert seconds < PROMPT_S, f"took {seconds:.1f} s to exit"
    assert error_lines(err) == [INTERRUPTED], err
    assert "Traceback" not in err, err
    _nothing_written(tmp_path, out)
    assert_gone(workers, within=1.0)


def test_ctrl_c_during_train_with_loader_workers(tmp_path: Path, seg_data: Path) -> None:
    out = tmp_path / "run"
    run = StuckRun.start(
        tmp_path, "cvtool.segment.dataset:SegmentationDataset.__getitem__", "quiet",
        "train", "unet", "--data", seg_data, "--out", out, "--epochs", 1, "--width", 4,
        "--size", 24, "--crop", 24, "--batch-size", 2, "--workers", 2, "--device", "cpu",
    )  # fmt: skip
    workers = run.stuck_workers(2)
    exit_code, seconds = run.signal(signal.SIGINT, group=True)
    err = run.stderr
    assert exit_code == 130, err
    assert seconds < PROMPT_S, f"took {seconds:.1f} s to exit"
    assert error_lines(err) == [INTERRUPTED], err
    assert "Traceback" not in err and "DataLoader" not in err, err
    # A run dir is made when training starts (it is resumable); no lock or staging is left.
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert not (out / "checkpoints" / "last.pt").exists()
    assert_gone(workers, within=1.0)


class _Stuck(torch.utils.data.Dataset):
    """Every item hangs, after recording the pid of the worker that reads it."""

    def __init__(self, pid_dir: Path) -> None:
        self.pid_dir = pid_dir

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> int:
        (self.pid_dir / str(os.getpid())).touch()
        while True:
            time.sleep(0.05)


def test_loader_workers_die_with_a_killed_process(tmp_path: Path) -> None:
    pid = os.fork()
    if pid == 0:  # the training process
        try:
            list(WorkerLoader(_Stuck(tmp_path), 1, range(8), workers=2))
        finally:
            os._exit(1)
    deadline = time.monotonic() + 30
    while len(workers := [int(p.name) for p in tmp_path.iterdir()]) < 2:
        assert time.monotonic() < deadline, "the loader workers never started"
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert_gone(workers, within=3.0)
