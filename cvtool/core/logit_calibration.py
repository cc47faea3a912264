"""Post-hoc calibration of a classifier's logits: temperature and vector scaling.

- `temperature` (Guo et al., 2017): `logits / T`, one positive number for all classes. Dividing
  every logit by the same positive number keeps their order, so no prediction changes:
  accuracy and mIoU stay exactly the same; only the confidence does.
- `vector`: `logits * w + b` with a scale `w_c` and a bias `b_c` per class. More freedom (it
  can fix a class that is over-confident while another is under-confident), but it may change
  which class wins, so predictions, accuracy and mIoU may change.

Both are fitted by minimising the mean negative log-likelihood of the labelled samples with
L-BFGS (strong Wolfe line search), the whole set per step, in float64: the samples come as
chunks from a `LogitStore`, so a segmentation split's pixels need not fit in memory. T is
fitted as log T, so it stays positive.

>>> calibration = fit_calibration(store, "temperature").calibration
>>> probs = apply_calibration(logits, calibration).softmax(dim=1)   # (B, C, ...) logits
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cvtool.core.calibration_metrics import CalibrationMetrics, CalibrationReport
from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.core.logit_store import LogitStore

METHODS = ("temperature", "vector")
MAX_ITERATIONS = 100


@dataclass(frozen=True)
class Calibration:
    """A fitted calibration: `method` and its `parameters` (`{"temperature": T}`, or
    `{"scale": [w_c], "bias": [b_c]}`)."""

    method: str
    parameters: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Any, where: str) -> Calibration:
        """The calibration recorded in `d` (its `method` and `parameters`), read from `where`."""
        try:
            method, params = d["method"], dict(d["parameters"])
            check_method(method)
            keys = ("temperature",) if method == "temperature" else ("scale", "bias")
            values = {k: params[k] for k in keys}
        except (KeyError, TypeError, ValueError, CvtoolError) as e:
            raise CvtoolError(f"{where} holds no usable calibration ({e})") from None
        return cls(method, values)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "parameters": dict(self.parameters)}

    @property
    def keeps_predictions(self) -> bool:
        """Whether the argmax of the calibrated logits is always the raw one."""
        return self.method == "temperature"


def check_method(method: str, param: str = "method") -> str:
    """`method` if it is a known calibration method, else a ParameterError naming the valid ones."""
    if method not in METHODS:
        valid = ", ".join(METHODS)
        raise ParameterError(f"unknown calibration method {method!r}; valid names: {valid}", param)
    return method


def apply_calibration(logits: Any, calibration: Calibration | None, dim: int = 1) -> Any:
    """Calibrated logits: `logits` (a torch tensor, classes along `dim`) with `calibration`
    applied; the logits themselves when it is None. Softmax them for probabilities."""
    if calibration is None:
        return logits
    p = calibration.parameters
    if calibration.method == "temperature":
        return logits / float(p["temperature"])
    import torch

    shape = [1] * logits.dim()
    shape[dim] = -1
    scale = torch.as_tensor(p["scale"], dtype=logits.dtype, device=logits.device).reshape(shape)
    bias = torch.as_tensor(p["bias"], dtype=logits.dtype, device=logits.device).reshape(shape)
    return logits * scale + bias


@dataclass
class FitResult:
    """A fitted calibration, the mean NLL of the fit samples before and after, and how many
    passes over them the optimiser made."""

    calibration: Calibration
    nll_before: float
    nll_after: float
    evaluations: int


def _mean_nll(store: LogitStore, transform: Any, backward: bool) -> float:
    """Mean NLL of the stored samples after `transform`; with `backward`, gradients of it
    accumulate into the transform's parameters."""
    import torch

    total = 0.0
    for logits, labels in store:
        with torch.set_grad_enabled(backward):
            # float64: the loss is smooth to ~1e-16, so L-BFGS stops when the gradient vanishes
            # rather than chasing float32 rounding noise
            loss = torch.nn.functional.cross_entropy(
                transform(logits.double()), labels, reduction="sum"
            )
            loss = loss / len(store)
            if backward:
                loss.backward()
        total += loss.item()
    return total


def fit_calibration(
    store: LogitStore, method: str, max_iterations: int = MAX_ITERATIONS
) -> FitResult:
    """Fit `method` to the logits and labels of `store` by minimising their mean NLL."""
    import torch

    check_method(method)
    if len(store) == 0:
        raise CvtoolError("no labelled samples to fit a calibration on")
    c = store.num_classes
    if method == "temperature":
        log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
        params = [log_t]

        def transform(z: Any) -> Any:
            return z * torch.exp(-log_t)
    else:
        scale = torch.ones(c, dtype=torch.float64, requires_grad=True)
        bias = torch.zeros(c, dtype=torch.float64, requires_grad=True)
        params = [scale, bias]

        def transform(z: Any) -> Any:
            return z * scale + bias

    nll_before = _mean_nll(store, lambda z: z, backward=False)
    optimizer = torch.optim.LBFGS(
        params,
        lr=1.0,
        max_iter=max_iterations,
        tolerance_grad=1e-7,
        tolerance_change=1e-9,
        line_search_fn="strong_wolfe",
    )
    evaluations = 0

    def closure() -> Any:
        nonlocal evaluations
        evaluations += 1
        optimizer.zero_grad()
        return torch.tensor(_mean_nll(store, transform, backward=True), dtype=torch.float64)

    optimizer.step(closure)
    if method == "temperature":
        calibration = Calibration(method, {"temperature": float(log_t.detach().exp())})
    else:
        calibration = Calibration(
            method, {"scale": scale.detach().tolist(), "bias": bias.detach().tolist()}
        )
    nll_after = _mean_nll(store, lambda z: apply_calibration(z, calibration), backward=False)
    return FitResult(calibration, nll_before, nll_after, evaluations)


def calibration_scores(
    store: LogitStore, calibration: Calibration, n_bins: int = 15
) -> tuple[CalibrationReport, CalibrationReport]:
    """The calibration of the stored samples' probabilities before and after `calibration`."""
    before = CalibrationMetrics(store.num_classes, n_bins)
    after = CalibrationMetrics(store.num_classes, n_bins)
    for logits, labels in store:
        before.update(logits.softmax(dim=1), labels)
        after.update(apply_calibration(logits, calibration).softmax(dim=1), labels)
    return before.compute(), after.compute()
