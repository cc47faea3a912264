"""Temperature and vector scaling: the L-BFGS fit against independent fits (netcal's
TemperatureScaling, a fine grid search of the NLL), argmax kept by temperature scaling, the
logit store in memory and on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.core.logit_calibration import (
    Calibration,
    apply_calibration,
    calibration_scores,
    fit_calibration,
)
from cvtool.core.logit_store import LogitStore

TRUE_T = 2.5


@pytest.fixture(scope="module")
def logits_labels() -> tuple[np.ndarray, np.ndarray]:
    """Logits of an over-confident model: labels drawn from softmax(logits / 2.5)."""
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(20000, 6)) * 4
    soft = np.exp(logits / TRUE_T)
    soft /= soft.sum(1, keepdims=True)
    labels = (soft.cumsum(1) > rng.random((len(logits), 1))).argmax(1)
    return logits.astype(np.float32), labels


def _store(logits: np.ndarray, labels: np.ndarray, spill: bool) -> LogitStore:
    store = LogitStore(logits.shape[1], spill=spill)
    for start in range(0, len(labels), 3000):
        store.append(torch.from_numpy(logits[start : start + 3000]), labels[start : start + 3000])
    return store


def test_temperature_matches_netcal_and_a_grid_search(logits_labels, one_torch_thread) -> None:
    from netcal.scaling import TemperatureScaling

    logits, labels = logits_labels
    with _store(logits, labels, spill=False) as store:
        fit = fit_calibration(store, "temperature")
    temperature = fit.calibration.parameters["temperature"]
    assert fit.nll_after < fit.nll_before
    z = torch.from_numpy(logits).double()
    y = torch.from_numpy(labels)
    grid = np.linspace(2.0, 3.0, 2001)  # steps of 0.0005 around the true 2.5
    nll = [torch.nn.functional.cross_entropy(z / t, y).item() for t in grid]
    assert temperature == pytest.approx(grid[int(np.argmin(nll))], rel=0.01)
    probs = torch.softmax(z, dim=1).numpy()
    netcal = TemperatureScaling()
    netcal.fit(probs, labels)
    weight = float(netcal._sites["weights"]["values"][0])  # netcal scales log-probs by 1/T
    assert temperature == pytest.approx(1 / weight, rel=0.01)
    assert temperature == pytest.approx(TRUE_T, rel=0.05)


def test_spilled_store_fits_the_same_and_cleans_up(logits_labels, one_torch_thread) -> None:
    logits, labels = logits_labels
    logits, labels = logits[:4000], labels[:4000]
    with _store(logits, labels, spill=False) as memory:
        in_memory = fit_calibration(memory, "temperature")
    store = _store(logits, labels, spill=True)
    folder = Path(store._dir.name)
    spilled = fit_calibration(store, "temperature")
    assert len(store) == 4000 and len(list(folder.iterdir())) == 4  # logits + labels x 2 chunks
    store.close()
    assert not folder.exists()
    assert spilled.calibration == in_memory.calibration


def test_temperature_keeps_every_prediction_and_vector_may_not(one_torch_thread) -> None:
    logits = torch.randn(2, 5, 7, 9) * 3
    scaled = apply_calibration(logits, Calibration("temperature", {"temperature": 0.37}))
    assert torch.equal(scaled.argmax(dim=1), logits.argmax(dim=1))
    vector = Calibration("vector", {"scale": [1, 1, 1, 1, 1], "bias": [0, 0, 0, 0, 50]})
    assert (apply_calibration(logits, vector).argmax(dim=1) == 4).all()
    assert apply_calibration(logits, None) is logits
    assert not vector.keeps_predictions


def test_vector_scaling_fits_at_least_as_well(logits_labels, one_torch_thread) -> None:
    logits, labels = logits_labels
    with _store(logits[:5000], labels[:5000], spill=False) as store:
        temperature = fit_calibration(store, "temperature")
        vector = fit_calibration(store, "vector")
        before, after = calibration_scores(store, vector.calibration)
    assert vector.nll_after <= temperature.nll_after + 1e-6
    assert len(vector.calibration.parameters["scale"]) == 6
    assert after.nll == pytest.approx(vector.nll_after, rel=1e-6)
    assert after.ece < before.ece


def test_bad_method_and_record_are_refused() -> None:
    with pytest.raises(ParameterError, match="unknown calibration method 'platt'; valid names"):
        fit_calibration(LogitStore(3), "platt")
    with pytest.raises(CvtoolError, match="no labelled samples"):
        fit_calibration(LogitStore(3), "temperature")
    with pytest.raises(CvtoolError, match=r"run\.json holds no usable calibration"):
        Calibration.from_dict({"method": "vector", "parameters": {"scale": [1]}}, "run.json")
    record = {"method": "temperature", "parameters": {"temperature": 1.5}}
    assert Calibration.from_dict(record, "run.json").to_dict() == record
