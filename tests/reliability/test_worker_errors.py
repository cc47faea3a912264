"""An error raised in a worker process reaches the user as it was raised: the same message
naming the file, the same hint, one paragraph, no worker traceback."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import time
from pathlib import Path

import pytest
import torch
from corpus import truncate
from processes import error_lines, run_cvtool

from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.core.parallel import parallel_map
from cvtool.core.workers import stop_processes
from cvtool.engine.loader import WorkerLoader, WorkerTraceback
from tests.segment.conftest import label_masks, noisy_predictions, write_dataset, write_predictions


def test_errors_pickle_with_hint_and_param() -> None:
    for error in (CvtoolError("bad file x.png", "fix it", "data"), ParameterError("no", "size")):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error)
        assert (copy.message, copy.hint, copy.param) == (error.message, error.hint, error.param)


def _refuse(i: int) -> int:
    if i == 3:
        raise CvtoolError(f"item {i} is bad", "drop item 3", param="items")
    if i == 5:
        raise ParameterError("size must be positive", "size", "give a positive size")
    return i


@pytest.mark.parametrize(("items", "cls", "hint", "param"), [
    (range(5), CvtoolError, "drop item 3", "items"),
    ([0, 1, 2, 5, 6], ParameterError, "give a positive size", "size"),
])  # fmt: skip
def test_a_hint_survives_a_process_pool(items, cls, hint: str, param: str) -> None:
    with pytest.raises(cls) as caught:
        list(parallel_map(_refuse, list(items), workers=2, chunksize=1))
    assert type(caught.value) is cls
    assert (caught.value.hint, caught.value.param) == (hint, param)


def _die(i: int) -> int:
    if i == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
    return i


def test_a_killed_pool_worker_is_reported_as_such() -> None:
    with pytest.raises(CvtoolError, match="worker process of 'decoding' ended abruptly") as e:
        list(parallel_map(_die, list(range(4)), workers=2, description="decoding", chunksize=1))
    assert "fewer `workers`" in str(e.value.hint)


class _Samples(torch.utils.data.Dataset):
    def __init__(self, bad: int, error: Exception) -> None:
        self.bad, self.error = bad, error

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> torch.Tensor:
        if index == self.bad:
            raise self.error
        return torch.tensor([index])


class _Unpicklable(Exception):
    def __init__(self, a: int, b: int) -> None:
        super().__init__(f"{a} and {b}")  # rebuilt from args alone, it fails


@pytest.mark.parametrize("workers", [0, 2])
def test_a_loader_worker_error_comes_out_as_raised(workers: int) -> None:
    error = CvtoolError("image x.png is corrupt or truncated", "re-run `cvtool prepare`")
    loader = WorkerLoader(_Samples(5, error), 2, range(8), workers)
    seen = []
    with pytest.raises(CvtoolError) as caught:
        for batch in loader:
            seen.extend(batch.tolist())
    assert (str(caught.value), caught.value.hint) == (str(error), error.hint)
    assert seen == [[0], [1], [2], [3]]
    if workers:
        assert isinstance(caught.value.__cause__, WorkerTraceback)
        assert "in __getitem__" in str(caught.value.__cause__)


def test_an_unpicklable_loader_worker_error_keeps_its_name_and_text() -> None:
    loader = WorkerLoader(_Samples(1, _Unpicklable(1, 2)), 2, range(8), workers=2)
    with pytest.raises(RuntimeError, match=r"^_Unpicklable: 1 and 2$"):
        list(loader)


def _deaf() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    while True:
        time.sleep(0.05)


def test_a_worker_deaf_to_sigterm_is_killed() -> None:
    process = multiprocessing.get_context("fork").Process(target=_deaf)
    process.start()
    time.sleep(0.2)
    start = time.monotonic()
    stop_processes([process], grace=0.5)
    assert not process.is_alive() and process.exitcode == -signal.SIGKILL
    assert time.monotonic() - start < 3


def _one_paragraph(result, path: Path) -> None:
    err = result.stderr
    assert result.returncode == 1, err
    assert str(path) in err and "corrupt or truncated" in err, err
    assert "Traceback" not in err and "worker process" not in err, err
    lines = error_lines(err)
    assert lines[0].startswith("error: ") and len(lines) <= 2, err


def test_a_corrupt_image_in_a_training_loader_worker(seg_data: Path, tmp_path: Path) -> None:
    bad = truncate(seg_data / "images" / "train_02.png")
    result = run_cvtool(
        "train", "unet", "--data", seg_data, "--out", tmp_path / "run", "--epochs", 1,
        "--width", 4, "--size", 24, "--crop", 24, "--batch-size", 2, "--workers", 2,
        "--device", "cpu",
    )  # fmt: skip
    _one_paragraph(result, bad)


def test_a_corrupt_mask_in_an_evaluation_worker(tmp_path: Path) -> None:
    masks = label_masks()
    data = write_dataset(tmp_path / "data", masks)
    preds = write_predictions(tmp_path / "preds", noisy_predictions(masks))
    bad = truncate(preds / "c.png", keep=0.5)
    out = tmp_path / "eval"
    result = run_cvtool(
        "evaluate", "--predictions", preds, "--data", data, "--workers", 2, "--out", out
    )
    _one_paragraph(result, bad)
    assert not out.exists()
