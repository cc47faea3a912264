"""`cvtool calibrate RUN` on a segmentation run, then `evaluate` with and without it: the fitted
temperature against a grid search, predictions unchanged, the calibrated numbers against
oracles, the record in run.json, and the errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import log_loss
from torchmetrics.functional.classification import multiclass_calibration_error

import cvtool
from cvtool.engine.checkpoint import checkpoint_manifest, read_checkpoint
from tests.segment.conftest import write_dataset
from tests.segment.test_checkpoint_cli import NAMES, SHAPE, _oracle_probs, random_masks, save_run

VAL, TEST = NAMES[:3], NAMES[3:]
QUIET = ("--workers", 1, "--device", "cpu", "--max-failures", 0)


@pytest.fixture
def masks() -> dict[str, np.ndarray]:
    return random_masks()


def make_run(tmp_path, masks, splits=None):
    """A prepared dataset (val and test) and an over-confident U-Net run dir with its run.json."""
    data_dir = write_dataset(tmp_path / "data", masks, splits or {"val": VAL, "test": TEST})
    run_dir = tmp_path / "run"
    model = save_run(run_dir, data_dir)
    best = run_dir / "checkpoints" / "best.pt"
    checkpoint_manifest(read_checkpoint(best), best).save(run_dir)
    return data_dir, run_dir, model


def _metrics(eval_dir):
    return json.loads((eval_dir / "metrics.json").read_text())


def test_calibrate_then_evaluate_raw_and_calibrated(cli, tmp_path, masks, one_torch_thread):
    data_dir, run_dir, model = make_run(tmp_path, masks)
    manifest = json.loads((run_dir / "run.json").read_text())
    result = cli("calibrate", run_dir, "--workers", 1, "--device", "cpu", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    temperature = summary["parameters"]["temperature"]
    assert summary["path"] == str(run_dir) and summary["split"] == "val"
    record = json.loads((run_dir / "run.json").read_text()).pop("calibration")
    assert json.loads((run_dir / "run.json").read_text()) == {**manifest, "calibration": record}
    assert record["method"] == "temperature" and record["split"] == "val"
    assert record["fitted_to"]["checkpoint"] == "checkpoints/best.pt"
    assert record["after"]["nll"] < record["before"]["nll"]
    assert record["after"]["accuracy"] == record["before"]["accuracy"]

    # the fitted temperature minimises the NLL of the validation pixels (grid search oracle)
    probs, labels, _ = _oracle_probs(model, data_dir, {n: masks[n] for n in VAL})
    assert record["samples"]["count"] == len(labels)
    log_p = probs.double().log()
    grid = np.geomspace(temperature / 1.5, temperature * 1.5, 801)
    nll = [torch.nn.functional.cross_entropy(log_p / t, labels).item() for t in grid]
    assert temperature == pytest.approx(grid[int(np.argmin(nll))], rel=0.01)

    assert cli("evaluate", run_dir, *QUIET).exit_code == 0
    assert cli("evaluate", run_dir, *QUIET, "--no-calibration").exit_code == 0
    calibrated, raw = _metrics(run_dir / "eval-test"), _metrics(run_dir / "eval-test-raw")
    for key in ("miou", "pixel_accuracy", "mean_class_accuracy", "fw_iou"):
        assert calibrated["headline"][key] == raw["headline"][key]  # exactly: same predictions
    confusion = (run_dir / "eval-test" / "confusion.csv").read_text()
    assert confusion == (run_dir / "eval-test-raw" / "confusion.csv").read_text()
    applied = calibrated["calibration"]["applied"]
    assert applied["method"] == "temperature" and applied["split"] == "val"
    assert raw["calibration"]["applied"] is None and "raw" not in raw["calibration"]
    for key, value in calibrated["calibration"]["raw"].items():
        assert value == pytest.approx(raw["calibration"][key], abs=1e-9)

    probs, labels, _ = _oracle_probs(model, data_dir, {n: masks[n] for n in TEST})
    scaled = (probs.double().log() / temperature).softmax(1)
    ece = multiclass_calibration_error(scaled, labels, 3, 15).item()
    assert calibrated["headline"]["ece"] == pytest.approx(ece, abs=1e-5)
    assert calibrated["headline"]["nll"] == pytest.approx(log_loss(labels, scaled), rel=1e-4)
    assert calibrated["headline"]["ece"] < raw["headline"]["ece"]
    saved = json.loads((run_dir / "eval-test" / "calibration.json").read_text())
    assert saved["raw"]["ece"] == pytest.approx(raw["headline"]["ece"], abs=1e-12)
    assert len(saved["class_ece"]) == 3 and "adaptive_bins" in saved


def test_vector_scaling_on_a_seeded_pixel_subsample(tmp_path, masks, one_torch_thread):
    _, run_dir, _ = make_run(tmp_path, masks)
    first = cvtool.calibrate(run_dir, method="vector", subsample=0.5, seed=3, workers=1)
    again = cvtool.calibrate(run_dir, method="vector", subsample=0.5, seed=3, workers=1)
    everything = 3 * SHAPE[0] * SHAPE[1]
    assert 0.3 * everything < first.samples < 0.6 * everything
    assert first.samples == again.samples and first.parameters == again.parameters
    assert len(first.parameters["scale"]) == len(first.parameters["bias"]) == 3
    record = json.loads((run_dir / "run.json").read_text())["calibration"]
    assert record["samples"] == {"count": first.samples, "unit": "pixels", "subsample": 0.5,
                                 "seed": 3}  # fmt: skip
    result = cvtool.evaluate(run_dir, split="test", workers=1, max_failures=0)
    assert result.metrics["calibration"]["applied"]["method"] == "vector"


def test_a_calibration_of_another_checkpoint_is_not_applied(cli, tmp_path, masks):
    _, run_dir, _ = make_run(tmp_path, masks)
    assert cli("calibrate", run_dir, "--workers", 1, "--device", "cpu").exit_code == 0
    save_run(run_dir, tmp_path / "data", seed=1)  # the run's best.pt changes
    result = cli("evaluate", run_dir, *QUIET)
    assert result.exit_code == 0, result.stderr
    assert "it is not applied" in result.stderr and "cvtool calibrate" in result.stderr
    assert _metrics(run_dir / "eval-test")["calibration"]["applied"] is None


def test_bad_inputs_name_the_problem(cli, tmp_path, masks):
    result = cli("calibrate", tmp_path / "missing")
    assert result.exit_code == 1 and "missing does not exist" in result.stderr

    _, run_dir, _ = make_run(tmp_path, masks, splits={"test": NAMES})
    result = cli("calibrate", run_dir, "--workers", 1, "--device", "cpu")
    assert result.exit_code == 1
    assert "cannot calibrate: split 'val' not found" in result.stderr and "val.txt" in result.stderr
    assert "--split" in result.stderr

    result = cli("calibrate", run_dir, "--method", "platt")
    assert result.exit_code == 2 and "--method: unknown calibration method 'platt'" in result.stderr
    assert "temperature, vector" in result.stderr

    result = cli("calibrate", run_dir, "--subsample", 0)
    assert result.exit_code == 2 and "--subsample must lie in (0, 1]" in result.stderr

    loose = tmp_path / "loose.pt"
    loose.write_bytes((run_dir / "checkpoints" / "best.pt").read_bytes())
    result = cli("calibrate", loose, "--split", "test")
    assert result.exit_code == 1 and "loose.pt is not inside a run dir" in result.stderr
