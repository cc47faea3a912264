"""Shared fixtures: the real-data folder (skipped when absent), a CLI runner, the tiny
prepared datasets (`seg_data`, `cls_data`) that every stage's tests build on, and real CamVid
prepared and trained on once per test run (`camvid_data`, `camvid_unet`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

from cvtool.core.threads import prepare_runtime, usable_cores

# Before torch loads: OpenMP threads that sleep when they wait, and the cores shared among the
# test processes (`-n 2` runs two of them), not all of them in each.
prepare_runtime()
_processes = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
os.environ.setdefault("OMP_NUM_THREADS", str(max(1, usable_cores() // _processes)))

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_root() -> Path:
    """`$CVTOOL_TEST_DATA`, else `../shared/data` beside the checkout."""
    return Path(os.environ.get("CVTOOL_TEST_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    root = shared_data_root()
    if not root.is_dir():
        pytest.skip(f"real data not found at {root} (set CVTOOL_TEST_DATA)")
    return root


def built_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], Path]) -> Path:
    """`build(folder)` run once per test run, shared by every test process (`-n 2` starts two:
    the first builds under a lock, the other waits and reuses it). Tests must not change it."""
    base = factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    done = root / f"{name}.done"
    with FileLock(root / f"{name}.lock"):
        if not done.is_file():
            done.write_text(str(build(root / name)))
    return Path(done.read_text())


@pytest.fixture(scope="session")
def camvid_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared CamVid (../shared/data/camvid) prepared with `prepare camvid`."""
    source = shared_data_root() / "camvid"
    if not source.is_dir():
        pytest.skip(f"real data not found at {source} (set CVTOOL_TEST_DATA)")
    from cvtool.formats.camvid import prepare_camvid

    return built_once(
        tmp_path_factory, "camvid", lambda out: prepare_camvid(source, out, workers=2).path
    )


@pytest.fixture(scope="session")
def camvid_unet(camvid_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small U-Net run on `camvid_data` (width 8, 64x80, 2 epochs): a real model, briefly
    trained. A test that changes the run (calibrate) works on a copy."""
    import cvtool

    options = {"width": 8, "upsample": "bilinear", "epochs": 2, "batch_size": 8, "lr": 0.003}
    return built_once(
        tmp_path_factory,
        "camvid_unet",
        lambda out: (
            cvtool.train(
                "unet", camvid_data, out, size="64x80", device="cpu", workers=0, **options
            ).path
        ),
    )


@pytest.fixture
def cli():
    """Run `cvtool ARGS...` in-process; returns the click Result (stdout and stderr separate)."""
    from typer.testing import CliRunner

    from cvtool.cli.main import app

    runner = CliRunner()

    def invoke(*args: object):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture(autouse=True)
def _pil_open_stays_unpatched():
    """A bare `import ultralytics` patches PIL.Image.open for the whole process (later unreadable
    images then fail with a confusing ModuleNotFoundError): catch the test that does it."""
    from PIL import Image

    before = Image.open
    yield
    assert Image.open is before, (
        "PIL.Image.open was patched: import ultralytics through cvtool.core.ultralytics_env"
    )


@pytest.fixture
def seg_data(tmp_path: Path) -> Path:
    """A prepared segmentation dataset: classes bg/r/g, 8/4/2 images of 36x44."""
    from cvtool.synthetic.datasets import random_segmentation_dataset

    return random_segmentation_dataset(tmp_path / "seg")


@pytest.fixture
def cls_data(tmp_path: Path) -> Path:
    """A prepared classification dataset: classes a/b/c, 8/4/2 images of 32x32."""
    from cvtool.synthetic.datasets import random_classification_dataset

    return random_classification_dataset(tmp_path / "cls")


@pytest.fixture
def one_torch_thread():
    """Tiny tensors: one intra-op thread is faster, and kinder to parallel test runs."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
