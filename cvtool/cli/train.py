"""`cvtool train MODEL ...`: one command per registered model, each with its own options and
defaults (built from the registry, so a new model appears here by registering it)."""

from __future__ import annotations

import inspect
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer

from cvtool.cli.common import CommandResult, parse_csv_list, stage_command
from cvtool.core.console import console
from cvtool.core.errors import CvtoolError
from cvtool.core.transforms import AUGMENT_PRESETS, parse_size
from cvtool.engine.config import LOSSES, OPTIMIZERS, SCHEDULERS, TrainConfig
from cvtool.engine.registry import MODELS, ModelSpec

app = typer.Typer(
    no_args_is_help=True,
    help="Train a model on a prepared dataset dir; writes a run dir (run.json, checkpoints/, "
    "history.csv, plots/).\n\nExample: cvtool train unet --data data/camvid --out runs/unet",
)


def _choices(name: str, values: tuple[str, ...]) -> type[Enum]:
    return Enum(name, {v: v for v in values}, type=str)  # type: ignore[return-value]


Optimizer = _choices("Optimizer", OPTIMIZERS)
Scheduler = _choices("Scheduler", SCHEDULERS)
LossName = _choices("LossName", LOSSES)
Augment = _choices("Augment", AUGMENT_PRESETS)
UpsampleMode = _choices("UpsampleMode", ("transpose", "bilinear"))


def _model_options(spec: ModelSpec) -> dict[str, tuple[Any, Any]]:
    """The typed CLI options of each model builder keyword (see `ModelSpec.params`)."""
    return {
        "width": (int, typer.Option(64, min=1, help="Base channels (doubled at each pooling).")),
        "upsample": (
            UpsampleMode,
            typer.Option(
                "transpose",
                help="Decoder upsampling: ConvTranspose2d k=2 s=2, or bilinear x2 + 1x1 conv.",
            ),
        ),
        "encoder": (
            str,
            typer.Option(
                spec.defaults.get("encoder", "resnet34"),
                help="smp encoder, e.g. resnet34, resnet50, efficientnet-b0.",
            ),
        ),
        "pretrained": (
            bool,
            typer.Option(
                True,
                "--pretrained/--no-pretrained",
                help="Start the backbone from ImageNet weights (downloaded once; offline use "
                "--no-pretrained or --weights).",
            ),
        ),
        "weights": (
            Optional[Path],  # noqa: UP045 (Typer needs a runtime type)
            typer.Option(None, help="Local ImageNet weights file for the backbone/encoder."),
        ),
        "freeze_encoder": (
            bool,
            typer.Option(False, "--freeze-encoder", help="Train the decoder only."),
        ),
        "freeze_backbone": (
            bool,
            typer.Option(False, "--freeze-backbone", help="Train the new last layer only."),
        ),
    }


def _common_options(spec: ModelSpec) -> dict[str, tuple[Any, Any]]:
    d = spec.defaults
    seg = spec.task == "segmentation"
    return {
        "data": (Path, typer.Option(..., help="Prepared dataset dir (with dataset.json).")),
        "out": (Path, typer.Option(..., help="Run dir to write.")),
        "epochs": (int, typer.Option(10, min=1, help="Epochs to train (in total, with --resume).")),
        "batch_size": (int, typer.Option(8, min=1, help="Images per batch (per process).")),
        "optimizer": (Optimizer, typer.Option(d["optimizer"], help="Optimizer.")),
        "lr": (float, typer.Option(d["lr"], help="Learning rate (peak LR for onecycle).")),
        "momentum": (float, typer.Option(d.get("momentum", 0.9), help="SGD momentum.")),
        "weight_decay": (float, typer.Option(d.get("weight_decay", 0.0), help="Weight decay.")),
        "scheduler": (
            Scheduler,
            typer.Option(d["scheduler"], help="LR schedule, stepped every iteration."),
        ),
        "loss": (
            LossName,
            typer.Option(
                "ce", help="ce, focal, dice, ce+dice, or bce (2-class sets); ignores 255."
            ),
        ),
        "class_weights": (
            Optional[str],  # noqa: UP045
            typer.Option(
                None,
                help="'auto' (median frequency balancing; balanced for classification) or one "
                "comma-separated weight per class.",
            ),
        ),
        "focal_gamma": (float, typer.Option(2.0, help="Focusing parameter of --loss focal.")),
        "label_smoothing": (
            float,
            typer.Option(d.get("label_smoothing", 0.0), help="Label smoothing of --loss ce."),
        ),
        "oversample": (
            bool,
            typer.Option(False, "--oversample", help="Draw images with rare classes more often."),
        ),
        "size": (
            Optional[str],  # noqa: UP045
            typer.Option(
                None,
                help="Resize: N (shorter side) or HxW; '' keeps the original size. "
                + ("Default 256 (with --crop 256)." if seg else "Default 224x224."),
            ),
        ),
        "crop": (
            Optional[str],  # noqa: UP045
            typer.Option(
                None,
                help="Centre crop after resizing: N or HxW; none unless the default --size.",
            ),
        ),
        "mean": (str, typer.Option("0.485,0.456,0.406", help="Normalisation mean (RGB).")),
        "std": (str, typer.Option("0.229,0.224,0.225", help="Normalisation std (RGB).")),
        "augment": (
            Augment,
            typer.Option(
                "none",
                help="none; flip; standard (random resized crop 0.8-1, flip, rotation 15, "
                "colour jitter 0.2); strong.",
            ),
        ),
        "mixup": (float, typer.Option(0.0, min=0, help="Mixup Beta(alpha, alpha); 0 = off.")),
        "seed": (int, typer.Option(0, help="Seed: equal seeds give equal runs (CPU).")),
        "device": (str, typer.Option("auto", help="auto (CUDA if available), cpu, cuda, cuda:1")),
        "workers": (int, typer.Option(2, min=0, help="DataLoader worker processes.")),
        "amp": (bool, typer.Option(True, "--amp/--no-amp", help="Mixed precision (CUDA only).")),
        "channels_last": (
            bool,
            typer.Option(True, "--channels-last/--no-channels-last", help="NHWC on CUDA."),
        ),
        "resume": (bool, typer.Option(False, "--resume", help="Continue from OUT's last.pt.")),
        "overwrite": (bool, typer.Option(False, "--overwrite", help="Replace a non-empty OUT.")),
        "wandb": (
            Optional[str],  # noqa: UP045
            typer.Option(None, help="Also log to this W&B project (WANDB_MODE=offline works)."),
        ),
    }


def _floats(value: str, option: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(v) for v in parse_csv_list(value))
    except ValueError:
        parts = ()
    if len(parts) != 3:
        raise CvtoolError(f"{option} expects 3 comma-separated numbers, got {value!r}")
    return parts  # type: ignore[return-value]


def _example(name: str, spec: ModelSpec) -> str:
    if spec.task == "classification":
        extra = " --no-pretrained" if spec.pretrained else ""
        return f"cvtool train {name} --data data/wildlife --out runs/{name} --epochs 5{extra}"
    extra = {"unet": " --width 32 --upsample bilinear"}.get(name, " --no-pretrained")
    return f"cvtool train {name} --data data/camvid --out runs/{name} --epochs 10{extra}"


def _register(name: str, spec: ModelSpec) -> None:
    model_opts = _model_options(spec)
    options = {**{p: model_opts[p] for p in spec.params}, **_common_options(spec)}

    def command(**kw: Any) -> CommandResult | None:
        from cvtool.engine.trainer import train

        model_kwargs = {p: kw.pop(p) for p in spec.params}
        model_kwargs = {k: v.value if isinstance(v, Enum) else v for k, v in model_kwargs.items()}
        for key in ("optimizer", "scheduler", "loss", "augment"):
            kw[key] = kw[key].value
        for key in ("size", "crop"):  # None = the task's default, '' = none
            kw[key] = "default" if kw[key] is None else parse_size(kw[key], f"--{key}")
        kw["mean"], kw["std"] = _floats(kw["mean"], "--mean"), _floats(kw["std"], "--std")
        result = train(TrainConfig(model=name, model_kwargs=model_kwargs, **kw))
        if not result.main:
            return None
        _print_history(result.history)
        return CommandResult(result.run_dir, result.summary())

    command.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=opt, annotation=typ)
            for key, (typ, opt) in options.items()
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
