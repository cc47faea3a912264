"""Typer apps, one module per stage: parse options, call the library, print."""
