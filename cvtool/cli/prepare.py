"""`cvtool prepare ...`: turn raw datasets into prepared dataset directories."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Turn raw datasets (COCO, CamVid, VOC, image folders) into prepared dataset directories.",
    no_args_is_help=True,
)
