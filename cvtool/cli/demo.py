"""`cvtool demo`: the whole pipeline on built-in synthetic data."""

from __future__ import annotations

from pathlib import Path

import typer

from cvtool.cli.common import (
    CommandResult,
    out_option,
    overwrite_option,
    seed_option,
    stage_command,
    threads_option,
    workers_option,
)

app = typer.Typer()


@stage_command(app, "demo")
def demo(
    out: Path = out_option("Where the demo writes (a re-run replaces it).", Path("cvtool-demo")),
    seed: int = seed_option("Seed for the generated data and the training run."),
    workers: int | None = workers_option("Processes for data preparation (default: all cores)."),
    threads: int | None = threads_option(),
    epochs: int = typer.Option(20, "--epochs", min=1, help="Training epochs for the demo U-Net."),
    weights: Path | None = typer.Option(
        None,
        "--weights",
        help="A local YOLO checkpoint to evaluate instead of the simulated detector.",
    ),
    overwrite: bool = overwrite_option(
        "Write into a non-empty --out that an earlier demo did not make."
    ),
) -> CommandResult:
    """Run every stage on built-in synthetic data, offline, in a few minutes on a CPU.

    Generates a COCO-format shapes dataset and prepares it, trains and evaluates a small model,
    evaluates a detector, tracks a synthetic sequence with two trackers, then prints what each
    stage wrote and where. Re-running replaces the previous demo output.

    Example:  cvtool demo --out /tmp/cvtool-demo
    """
    from rich.table import Table

    from cvtool.core.console import console, info, literal
    from cvtool.core.outputs import is_hidden
    from cvtool.demo.pipeline import DemoOptions, run_demo

    opts = DemoOptions(out, seed, workers, epochs, weights, threads)
    steps = run_demo(opts, overwrite=overwrite)
    table = Table(title="cvtool demo: what each stage produced", show_lines=True)
    table.add_column("stage", style="bold")
    table.add_column("what", overflow="fold")
    table.add_column(literal(f"where (under {out})"), overflow="fold")
    table.add_column("numbers", overflow="fold")
    table.add_column("time", justify="right", overflow="fold")
    for s in steps:
        numbers = "\n".join(
            f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in s.numbers.items()
        )
        where = s.path.relative_to(out) if s.path.is_relative_to(out) else s.path
        table.add_row(s.stage, s.produced, literal(where), numbers, f"{s.seconds:.1f}s")
    console.print(table)
    plots = sorted(str(p) for p in out.glob("*/**/plots") if p.is_dir() and not is_hidden(p, out))
    if plots:
        info(f"Open the plots with:  xdg-open {plots[0]}")
        info("All plot folders: " + ", ".join(plots))
    return CommandResult(
        out, {"steps": [{"stage": s.stage, "path": str(s.path), **s.numbers} for s in steps]}
    )
