"""Developer sessions: `nox -s tests`, `nox -s lint`, `nox -s demo`, `nox -s benchmarks`."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    session.install("-e", ".[test]")
    session.run("pytest", "-q", "-n", "2", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def demo(session: nox.Session) -> None:
    session.install("-e", ".")
    session.run("cvtool", "demo", *session.posargs)


@nox.session
def benchmarks(session: nox.Session) -> None:
    """Run every benchmark; each prints ratios against a baseline measured in the same run."""
    session.install("-e", ".[test]")
    for script in sorted(__import__("pathlib").Path("benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)
