"""The calibration stored with a run (`run.json`, written by `cvtool calibrate`): which checkpoint
it belongs to, and reading it back for evaluation or any later inference.

>>> checkpoint = load_checkpoint(Path("runs/unet"))
>>> found = stored_calibration(checkpoint)            # (Calibration, record) or None
>>> probs = apply_calibration(logits, found[0] if found else None).softmax(dim=1)
"""

from __future__ import annotations

from typing import Any

from cvtool.core.console import warn
from cvtool.core.logit_calibration import Calibration
from cvtool.engine.manifest import RUN_MANIFEST, RunManifest


def checkpoint_identity(checkpoint: Any) -> dict[str, Any]:
    """Which checkpoint of its run a loaded checkpoint is: path in the run dir, epoch, digest."""
    from cvtool.download.fetch import file_digest

    return {
        "checkpoint": checkpoint.path.relative_to(checkpoint.run_dir).as_posix(),
        "epoch": checkpoint.epoch,
        "sha256": file_digest(checkpoint.path, "sha256"),
    }


def stored_calibration(checkpoint: Any) -> tuple[Calibration, dict[str, Any]] | None:
    """The calibration stored with the run of a loaded checkpoint, with its record, when it was
    fitted to this very checkpoint; None when there is none. A calibration fitted to another
    checkpoint (a run trained further, `best.pt` vs `last.pt`) is not used, with a warning."""
    if checkpoint.run_dir is None or not (checkpoint.run_dir / RUN_MANIFEST).is_file():
        return None
    record = RunManifest.load(checkpoint.run_dir).calibration
    if not record:
        return None
    where = str(checkpoint.run_dir / RUN_MANIFEST)
    calibration = Calibration.from_dict(record, where)
    fitted = record.get("fitted_to", {})
    if fitted.get("sha256") != checkpoint_identity(checkpoint)["sha256"]:
        warn(
            f"{where}: the {calibration.method} calibration was fitted to "
            f"{fitted.get('checkpoint')} (epoch {fitted.get('epoch')}), not to {checkpoint.path} "
            f"(epoch {checkpoint.epoch}); it is not applied. Run `cvtool calibrate` again."
        )
        return None
    return calibration, record
