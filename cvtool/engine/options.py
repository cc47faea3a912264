"""Where a run's options come from: config files, a run to resume, explicit overrides.

A config file is a YAML or JSON mapping of `TrainConfig` fields (`batch_size` or `batch-size`);
a model's own parameters may be given flat (`width: 16`) or under `model_kwargs`. A run's
`run.json` is a valid config file: it replays the run's recorded options.

>>> config = load_config("runs/train/unet/run.json", out="runs/train/replay")
>>> config = resume_config("runs/train/unet", epochs=12)     # train a finished run further

Layers are merged in order, later ones winning; only what a layer names overrides.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.engine.config import TrainConfig
from cvtool.engine.manifest import RunManifest
from cvtool.engine.registry import get_spec


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The options of a YAML/JSON config file (`.json` is read as JSON, anything else as
    YAML); for a run manifest, its recorded options."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"config file {path} not found", "config")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise CvtoolError(f"config file {path} cannot be parsed: {e}", param="config") from None
    if isinstance(data, dict) and "schema_version" in data:
        data = RunManifest.from_dict(data, str(path)).options
    if not isinstance(data, dict):
        raise CvtoolError(f"config file {path} is not a mapping of options", param="config")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def merge_options(model: str, *layers: dict[str, Any]) -> TrainConfig:
    """The `TrainConfig` of `model` from option layers, later layers winning. A layer naming
    another model is refused; the model's parameters may be flat or under `model_kwargs`."""
    try:
        params = {p.name for p in get_spec(model).params}
    except KeyError as e:
        raise ParameterError(e.args[0], "model") from None
    merged: dict[str, Any] = {"model": model, "model_kwargs": {}}
    for layer in layers:
        layer = dict(layer)
        other = layer.pop("model", model)
        if other != model:
            raise ParameterError(f"the options are for model {other!r}, not {model!r}", "model")
        kwargs = dict(layer.pop("model_kwargs", None) or {})
        kwargs.update({k: layer.pop(k) for k in list(layer) if k in params})
        merged["model_kwargs"] = {**merged["model_kwargs"], **kwargs}
        merged.update(layer)
    return TrainConfig.from_dict(merged)


def load_config(path: str | Path, model: str | None = None, **overrides: Any) -> TrainConfig:
    """The config of a YAML/JSON file (or a run's `run.json`), with `overrides` applied.
    `model` defaults to the file's."""
    options = read_config_file(path)
    name = model or options.get("model")
    if name is None:
        raise ParameterError(f"config file {path} names no model", "model")
    return merge_options(name, options, overrides)


def resume_config(run_dir: str | Path, **overrides: Any) -> TrainConfig:
    """The config that continues the run in `run_dir` from its `checkpoints/last.pt`: the
    run's recorded options with `overrides` (for example a larger `epochs`) applied. Whether
    the overrides may change is checked when training starts."""
    from cvtool.engine.checkpoint import checkpoint_manifest, read_checkpoint
    from cvtool.engine.rundir import last_checkpoint

    last = last_checkpoint(Path(run_dir))
    run = checkpoint_manifest(read_checkpoint(last), last)
    if not run.options:
        raise CvtoolError(
            f"{last} was written by cvtool 0.1 and records no options, so it cannot be resumed",
            "train a new run; the checkpoint can still be evaluated and applied",
        )
    model = overrides.pop("model", run.model)
    if model != run.model:
        raise CvtoolError(
            f"cannot resume {last}: it was trained with model {run.model!r} (now {model!r})",
            param="model",
        )
    return merge_options(model, run.options, {**overrides, "out": Path(run_dir), "resume": True})
