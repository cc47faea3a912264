"""The `cvtool` command: one group or command per pipeline stage.

Stage modules import only Typer at module level; the libraries they drive (torch, ultralytics,
trackeval, ...) are imported inside the commands, so `cvtool --help` stays fast.
"""

from __future__ import annotations

import typer

from cvtool import __version__
from cvtool.cli import (
    calibrate,
    compare,
    demo,
    detect,
    download,
    evaluate,
    export,
    predict,
    prepare,
    track,
    train,
)
from cvtool.core.signals import raise_on_sigterm
from cvtool.core.threads import prepare_runtime

app = typer.Typer(
    name="cvtool",
    help=(
        "The computer-vision experiment loop as pipeline steps: prepare a dataset, train, "
        "evaluate, calibrate, predict, export, detect, track.\n\n"
        "Each stage prints progress on stderr and the path of what it wrote as the last line "
        "of stdout (or a JSON summary with --json), so stages chain in shell scripts:\n\n"
        "    data=$(cvtool prepare coco --annotations instances.json --images imgs "
        "--classes person,car --out data/coco2)"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="rich",
)

GROUPS = {
    "prepare": prepare.app,
    "train": train.app,
    "detect": detect.app,
    "track": track.app,
    "download": download.app,
}
# Single-command stages: their commands join the root app directly.
COMMAND_MODULES = (evaluate, calibrate, compare, predict, export, demo)

for name, group in GROUPS.items():
    app.add_typer(group, name=name)
for module in COMMAND_MODULES:
    app.registered_commands.extend(module.app.registered_commands)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cvtool {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    # --json and --debug are declared on each command (see cli/common.py).
    return None


def main() -> None:
    prepare_runtime()  # before torch is imported: its OpenMP runtime reads the environment once
    raise_on_sigterm()  # `kill` cleans up like Ctrl-C (exit code 143)
    app()
