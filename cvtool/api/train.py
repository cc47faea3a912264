"""Train a registered model from Python; the options are those of `cvtool train MODEL`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cvtool.api.params import PathLike, as_dataclass, as_numbers, as_optional_path, as_path, as_size
from cvtool.api.results import RunResult
from cvtool.core.console import quiet
from cvtool.core.errors import ParameterError

if TYPE_CHECKING:
    from cvtool.engine.trainer import EpochCallback


def _training_options(options: dict[str, Any]) -> dict[str, Any]:
    """The training options in the types `TrainConfig` takes: sizes and mean/std."""
    out = dict(options)
    for key in ("size", "crop"):  # "default" = the task's default; None = no resize/crop
        if key in out and out[key] != "default":
            out[key] = as_size(out[key], key)
    for key in ("mean", "std"):
        if key in out:
            out[key] = as_numbers(out[key], 3, key)
    return out


def train(
    model: str,
    data: PathLike,
    out: PathLike | None = None,
    *,
    progress: bool = False,
    callbacks: Sequence[EpochCallback] = (),
    **options: Any,
) -> RunResult:
    """Train `model` on a prepared dataset and write a run dir (run.json, checkpoints/,
    history.csv, plots/).

    Args:
        model: a registered model name: unet, segnet, fcn_resnet50, ..., convnet, resnet18.
        data: prepared dataset directory (with dataset.json).
        out: run dir to write (default: the first free `runs/train/MODEL`, `MODEL2`, ...).
        progress: show progress bars and tables on stderr.
        callbacks: functions called as `callback(epoch, row)` after each epoch.
        **options: the model's own options (e.g. unet: `width`, `upsample`; torchvision and
            smp models: `pretrained`, `weights`, `encoder`, ...) and any training option of
            `cvtool.engine.config.TrainConfig` (`epochs`, `batch_size`, `lr`, `optimizer`,
            `scheduler`, `loss`, `augment`, `device`, `workers`, `seed`, `overwrite`, ...).
            `size` and `crop` take `256`, `"180x240"` or `(180, 240)` (None: none); `mean` and
            `std` take `"0.5,0.5,0.5"` or three numbers.

    Returns:
        The run dir, epochs trained, the best epoch and its validation score, and the history.
    """
    from cvtool.core.rundirs import next_run_dir
    from cvtool.engine import trainer
    from cvtool.engine.config import TrainConfig
    from cvtool.engine.registry import MODELS

    spec = MODELS.get(model)
    if spec is None:
        raise ParameterError(f"unknown model {model!r}; valid: {', '.join(MODELS)}", "model")
    model_kwargs = {
        **options.pop("model_kwargs", {}),
        **{k: options.pop(k) for k in spec.params if k in options},
    }
    run_dir = as_optional_path(out, "out") or next_run_dir("train", model)
    config = as_dataclass(
        TrainConfig,
        {
            "model": model,
            "data": as_path(data, "data"),
            "out": run_dir,
            "model_kwargs": model_kwargs,
            **_training_options(options),
        },
        f"train({model!r})",
    )
    with quiet(not progress):
        result = trainer.train(config, callbacks)
    return RunResult(
        result.run_dir,
        len(result.history),
        result.best_epoch,
        result.best_metric,
        result.best_value,
        result.history,
    )
