"""Importing ultralytics through cvtool leaves PIL alone and disables auto-installs."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
from PIL import Image
before = Image.open
from cvtool.core.ultralytics_env import import_ultralytics
import_ultralytics()
from ultralytics.utils import AUTOINSTALL
print(Image.open is before, AUTOINSTALL)
"""


def test_pil_open_is_not_patched_and_installs_are_off() -> None:
    # a fresh interpreter: ultralytics reads its settings once, at first import
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]
