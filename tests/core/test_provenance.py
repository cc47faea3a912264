"""One provenance record for every manifest."""

from __future__ import annotations

import sys

from cvtool import __version__
from cvtool.core.artifacts import ClassInfo, DatasetManifest
from cvtool.core.provenance import invocation, provenance


def test_provenance_fields(monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["/usr/bin/cvtool", "evaluate", "runs/a b"])
    record = provenance("numpy", "no-such-distribution")
    assert record["command"] == "cvtool evaluate 'runs/a b'" == invocation()
    assert record["created"].endswith("+00:00")
    assert record["versions"]["cvtool"] == __version__
    assert record["versions"]["numpy"] and record["versions"]["no-such-distribution"] is None


def test_dataset_manifest_records_the_command(monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["cvtool", "prepare", "folder"])
    manifest = DatasetManifest(task="classification", classes=[ClassInfo(0, "a", (0, 0, 0))])
    assert manifest.command == "cvtool prepare folder" and manifest.created
