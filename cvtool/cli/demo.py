"""`cvtool demo`: the whole pipeline on built-in synthetic data."""

from __future__ import annotations

import typer

app = typer.Typer()
