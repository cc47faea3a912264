"""Import ultralytics without its side effects on the rest of the process.

ultralytics, at import, reads settings that allow downloads and automatic `pip install`s, and
monkey-patches `PIL.Image.open` so that an unreadable image triggers an attempt to install
`pi-heif` (which fails offline with a confusing ModuleNotFoundError, in every later stage of the
same process); it also sets `OMP_NUM_THREADS=1`, which would override cvtool's threading policy
(`cvtool.core.threads`) for the rest of the process. Every cvtool module that needs
ultralytics imports it through `import_ultralytics`.
"""

from __future__ import annotations

import os
from types import ModuleType


def import_ultralytics() -> ModuleType:
    """Import ultralytics offline, quiet and without auto-installs; keep PIL.Image.open intact."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_VERBOSE", "False")
    os.environ.setdefault("YOLO_AUTOINSTALL", "False")
    from PIL import Image

    original_open = Image.open
    omp_threads = os.environ.get("OMP_NUM_THREADS")
    import ultralytics
    import ultralytics.utils  # applies ultralytics' monkey patches

    Image.open = original_open
    if omp_threads is None:  # it sets 1 for the processes it starts; cvtool has its own policy
        os.environ.pop("OMP_NUM_THREADS", None)
    return ultralytics
