"""`cvtool train MODEL ...`: one command per registered model, each with its own options and
defaults (built from the registry, so a new model appears here by registering it).

Only the options given on the command line are passed on: they override a `--config` file, or
the stored options of the run that `--resume` continues; everything else takes the library's
defaults, which are the defaults shown in `--help`.
"""

from __future__ import annotations

import inspect
from dataclasses import fields
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer

from cvtool.cli.common import CACHE_HELP, THREADS_HELP, CommandResult, stage_command
from cvtool.core.batch_augment import AUGMENT_DEVICES
from cvtool.core.cache import CACHE_MODES
from cvtool.core.console import console
from cvtool.core.device import DEVICE_HELP
from cvtool.core.transforms import AUGMENT_PRESETS
from cvtool.engine.config import TrainConfig, model_defaults
from cvtool.engine.losses import LOSSES
from cvtool.engine.optim import OPTIMIZERS, SCHEDULERS
from cvtool.engine.registry import MODELS, ModelSpec, Param

app = typer.Typer(
    no_args_is_help=True,
    help="Train a model on a prepared dataset dir; writes a run dir (run.json, checkpoints/, "
    "history.csv, plots/), by default runs/train/MODEL (numbered).\n\n"
    "A run whose losses, validation score or weights become NaN/Inf stops with exit code 1; "
    "the run dir keeps its last good epoch.\n\n"
    "Example: cvtool train unet --data data/camvid --out runs/unet",
)

Option = tuple[Any, Any]  # (annotation, typer.Option)
DEFAULTS = {f.name: f.default for f in fields(TrainConfig)}


def _choices(name: str, values: Any) -> type[Enum]:
    return Enum(name, {v: v for v in values}, type=str)  # type: ignore[return-value]


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _toggle(name: str, default: bool, help: str) -> Option:
    """A boolean option with an on and an off switch (so either can override a config file)."""
    flag = _flag(name)
    return bool, typer.Option(default, f"{flag}/--no-{flag[2:]}", help=help)


def _param_option(param: Param) -> Option:
    """The CLI option of one typed model parameter."""
    if param.type is bool:
        return _toggle(param.name, param.default, param.help)
    if param.type is Path:
        return Optional[Path], typer.Option(None, help=param.help)  # noqa: UP045 (Typer needs a runtime type)
    if param.choices:
        kind = _choices(param.name.title(), param.choices)
        return kind, typer.Option(param.default, help=param.help)
    return param.type, typer.Option(param.default, min=param.minimum, help=param.help)


def _common_options(spec: ModelSpec) -> dict[str, Option]:
    d = {**DEFAULTS, **model_defaults(spec)}
    seg = spec.task == "segmentation"
    opt_str = Optional[str]  # noqa: UP045
    return {
        "config": (
            Optional[Path],  # noqa: UP045
            typer.Option(
                None,
                help="YAML or JSON file of options (a run's run.json replays that run); options "
                "given on the command line override it.",
            ),
        ),
        "data": (Optional[Path], typer.Option(None, help="Prepared dataset dir (dataset.json).")),  # noqa: UP045
        "out": (
            Optional[Path],  # noqa: UP045
            typer.Option(None, help="Run dir to write. Default: runs/train/MODEL, numbered."),
        ),
        "epochs": (int, typer.Option(d["epochs"], min=1, help="Epochs in total (also on resume).")),
        "batch_size": (
            int,
            typer.Option(d["batch_size"], min=1, help="Images per batch (per process)."),
        ),
        "optimizer": (
            _choices("Optimizer", OPTIMIZERS),
            typer.Option(d["optimizer"], help="Optimizer."),
        ),
        "lr": (float, typer.Option(d["lr"], help="Learning rate (peak LR for onecycle).")),
        "momentum": (float, typer.Option(d["momentum"], help="SGD momentum.")),
        "weight_decay": (float, typer.Option(d["weight_decay"], help="Weight decay.")),
        "scheduler": (
            _choices("Scheduler", SCHEDULERS),
            typer.Option(d["scheduler"], help="LR schedule, stepped every iteration."),
        ),
        "loss": (
            _choices("LossName", LOSSES),
            typer.Option(d["loss"], help="Loss (all ignore label 255); bce is for 2-class sets."),
        ),
        "class_weights": (
            opt_str,
            typer.Option(
                None,
                help="'auto' (median frequency balancing; balanced for classification) or one "
                "comma-separated weight per class.",
            ),
        ),
        "focal_gamma": (
            float,
            typer.Option(d["focal_gamma"], help="Focusing parameter of the focal loss."),
        ),
        "label_smoothing": (
            float,
            typer.Option(d["label_smoothing"], help="Label smoothing of the ce loss."),
        ),
        "oversample": _toggle(
            "oversample", d["oversample"], "Draw images with rare classes more often."
        ),
        "size": (
            opt_str,
            typer.Option(
                None,
                help="Resize: N (shorter side) or HxW; '' keeps the original size. "
                + ("Default 256 (with --crop 256)." if seg else "Default 224x224."),
            ),
        ),
        "crop": (
            opt_str,
            typer.Option(
                None, help="Centre crop after resizing: N or HxW; none unless the default --size."
            ),
        ),
        "mean": (
            str,
            typer.Option(",".join(map(str, d["mean"])), help="Normalisation mean (RGB)."),
        ),
        "std": (str, typer.Option(",".join(map(str, d["std"])), help="Normalisation std (RGB).")),
        "augment": (
            _choices("Augment", AUGMENT_PRESETS),
            typer.Option(
                d["augment"],
                help="none; flip; standard (random resized crop 0.8-1, flip, rotation 15, "
                "colour jitter 0.2); strong.",
            ),
        ),
        "mixup": (
            float,
            typer.Option(d["mixup"], min=0, help="Mixup Beta(alpha, alpha); 0 = off."),
        ),
        "seed": (int, typer.Option(d["seed"], help="Seed: equal seeds give equal runs (CPU).")),
        "patience": (
            Optional[int],  # noqa: UP045
            typer.Option(
                None, min=1, help="Stop after N epochs without a better validation score."
            ),
        ),
        "device": (str, typer.Option(d["device"], help=DEVICE_HELP)),
        "workers": (int, typer.Option(d["workers"], min=0, help="DataLoader worker processes.")),
        "threads": (Optional[int], typer.Option(None, min=1, help=THREADS_HELP)),  # noqa: UP045
        "cache": (_choices("Cache", CACHE_MODES), typer.Option(d["cache"], help=CACHE_HELP)),
        "augment_device": (
            _choices("AugmentDevice", AUGMENT_DEVICES),
            typer.Option(
                d["augment_device"],
                help="Where augmentation runs: cpu (per image, in the loader workers) or cuda "
                "(per batch on the training GPU; the loader then only decodes and resizes).",
            ),
        ),
        "amp": _toggle("amp", d["amp"], "Mixed precision (CUDA only)."),
        "channels_last": _toggle("channels_last", d["channels_last"], "NHWC on CUDA."),
        "resume": (
            bool,
            typer.Option(False, "--resume", help="Continue the run in --out with its own options."),
        ),
        "overwrite": (
            bool,
            typer.Option(
                False,
                "--overwrite",
                help="Replace the run in --out (kept until the new run saves its first epoch).",
            ),
        ),
        "wandb": (
            opt_str,
            typer.Option(None, help="Also log to this W&B project (WANDB_MODE=offline works)."),
        ),
        "logger": (
            str,
            typer.Option(
                d["logger"],
                help="Loggers besides history.csv: csv (none), tensorboard (RUN/tensorboard), "
                "wandb, or a comma list such as tensorboard,wandb.",
            ),
        ),
    }


def _explicit(ctx: typer.Context, kw: dict[str, Any]) -> dict[str, Any]:
    """The options given on the command line (Enum choices as their values)."""
    given = {k for k in kw if getattr(ctx.get_parameter_source(k), "name", "") == "COMMANDLINE"}
    return {k: v.value if isinstance(v, Enum) else v for k, v in kw.items() if k in given}


def _example(name: str, spec: ModelSpec) -> str:
    if spec.task == "classification":
        extra = " --no-pretrained" if spec.pretrained else ""
        return f"cvtool train {name} --data data/wildlife --epochs 5{extra}   # runs/train/{name}"
    extra = {"unet": " --width 32 --upsample bilinear"}.get(name, " --no-pretrained")
    return f"cvtool train {name} --data data/camvid --out runs/{name} --epochs 10{extra}"


def _train(name: str, explicit: dict[str, Any]) -> Any:
    from cvtool.engine.options import load_config, merge_options, resume_config
    from cvtool.engine.trainer import train

    config_file = explicit.pop("config", None)
    if explicit.pop("resume", False):
        if config_file is not None:
            raise typer.BadParameter(
                "--resume continues a run with its own options", param_hint="'--config'"
            )
        if "out" not in explicit:
            raise typer.BadParameter("--resume needs the run dir to continue", param_hint="'--out'")
        config = resume_config(explicit.pop("out"), model=name, **explicit)
    elif config_file is not None:
        config = load_config(config_file, name, **explicit)
    else:
        config = merge_options(name, explicit)
    return train(config)


def _register(name: str, spec: ModelSpec) -> None:
    options = {**{p.name: _param_option(p) for p in spec.params}, **_common_options(spec)}

    def command(ctx: typer.Context, **kw: Any) -> CommandResult | None:
        result = _train(name, _explicit(ctx, kw))
        if not result.main:
            return None
        _print_history(result.history)
        return CommandResult(result.run_dir, result.summary())

    keyword = inspect.Parameter.KEYWORD_ONLY
    command.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("ctx", keyword, annotation=typer.Context),
            *(
                inspect.Parameter(key, keyword, default=opt, annotation=typ)
                for key, (typ, opt) in options.items()
            ),
        ]
    )
    command.__name__ = name.replace("-", "_")
    help_text = f"{spec.summary}\n\nExample:\n\n    {_example(name, spec)}"
    stage_command(app, name, help=help_text, short_help=spec.summary)(command)


def _print_history(history: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(title="training history")
    for column in history[0]:
        table.add_column(column, justify="right")
    for row in history:
        table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()))
    console.print(table)


for _name, _spec in MODELS.items():
    _register(_name, _spec)
