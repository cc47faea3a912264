"""docs/python.md runs: its ```python blocks, in order, as one script in an empty folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOC = REPO_ROOT / "docs" / "python.md"


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", markdown, flags=re.DOTALL | re.MULTILINE)


@pytest.mark.slow
def test_python_doc_runs(tmp_path: Path) -> None:
    blocks = python_blocks(DOC.read_text())
    assert len(blocks) >= 4
    script = tmp_path / "python_md.py"
    script.write_text("\n".join(blocks))
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "size -> size must be N or HxW" in done.stdout
    for path in ("data/shapes/dataset.json", "runs/unet-w8/eval-test", "runs/comparison"):
        assert (tmp_path / path).exists(), path
    # quiet stages print nothing; the one call with progress=True prints its tables
    assert "training unet" not in done.stderr and "mIoU" in done.stderr
