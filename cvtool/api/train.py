"""Train a registered model from Python; the options are those of `cvtool train MODEL`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cvtool.api.params import PathLike, as_path
from cvtool.api.results import RunResult
from cvtool.core.console import quiet
from cvtool.core.errors import ParameterError

if TYPE_CHECKING:
    from cvtool.engine.trainer import EpochCallback


def train(
    model: str,
    data: PathLike | None = None,
    out: PathLike | None = None,
    *,
    config: PathLike | None = None,
    resume: bool = False,
    progress: bool = False,
    callbacks: Sequence[EpochCallback] = (),
    **options: Any,
) -> RunResult:
    """Train `model` on a prepared dataset and write a run dir (run.json, checkpoints/,
    history.csv, plots/).

    Args:
        model: a registered model name: unet, segnet, fcn_resnet50, ..., convnet, resnet18.
        data: prepared dataset directory (with dataset.json); may come from `config`.
        out: run dir to write (default: the first free `runs/train/MODEL`, `MODEL2`, ...);
            with `resume`, the run to continue.
        config: a YAML/JSON file of these options (a run's `run.json` replays that run);
            `data`, `out` and `options` given here override it.
        resume: continue the run in `out` from its last checkpoint with its own options;
            only `epochs` (to train further) and where it runs (`data`, `device`, `workers`)
            may change.
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
    from cvtool.engine import trainer
    from cvtool.engine.options import load_config, merge_options, resume_config

    given = dict(options)
    if data is not None:
        given["data"] = as_path(data, "data")
    if out is not None:
        given["out"] = as_path(out, "out")
    if resume:
        if config is not None:
            raise ParameterError("resume continues a run with its own options", "config")
        if "out" not in given:
            raise ParameterError("resume needs the run dir to continue", "out")
        run_config = resume_config(given.pop("out"), model=model, **given)
    elif config is not None:
        run_config = load_config(as_path(config, "config"), model, **given)
    else:
        if "data" not in given:
            raise ParameterError("train needs a prepared dataset", "data")
        run_config = merge_options(model, given)
    with quiet(not progress):
        result = trainer.train(run_config, callbacks)
    return RunResult(
        result.run_dir,
        len(result.history),
        result.best_epoch,
        result.best_metric,
        result.best_value,
        result.history,
    )
