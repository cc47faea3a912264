"""The detection headline: COCO AP per scale, TIDE's dAPs and ECE, from `detect eval`'s results
in memory or from the files it wrote (for `compare`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cvtool.core.artifacts import read_json
from cvtool.core.compare import EvalKind, EvalRow
from cvtool.core.headline import HEADLINES, TIDE_ERRORS

COCO_EVAL_FILE = "coco_eval.json"


def headline_values(
    stats: dict[str, float], tide_all: dict[str, Any] | None, ece: float | None
) -> dict[str, Any]:
    """The detection headline (`cvtool.core.headline`) from COCOeval's `stats`, TIDE's overall
    result (`TideResult.to_dict()`, None without objects) and the overall ECE; then TIDE's AP50
    and its main errors as a dict."""
    main = {} if tide_all is None else tide_all["main_errors"]
    values = {**stats, "ece": ece, **{f"tide_{e.lower()}": main.get(e) for e in TIDE_ERRORS}}
    return {
        **{key: values.get(key) for key in HEADLINES["detection"].keys},
        "tide_ap50": None if tide_all is None else tide_all["ap50"],
        "tide_main_errors": None if tide_all is None else main,
    }


def _rows(directory: Path) -> list[EvalRow]:
    coco = read_json(directory / COCO_EVAL_FILE, "COCO evaluation")
    tide = read_json(directory / "tide.json", "TIDE errors")
    calibration = read_json(directory / "calibration.json", "detection calibration")
    overall = (calibration.get("by_scale") or {}).get("all") or {}
    values = headline_values(coco["stats"], tide["by_scale"].get("all"), overall.get("ece"))
    context = {"annotations": Path(str(coco.get("annotations", ""))).name}
    return [EvalRow(directory.resolve().name, context, values, directory, str(directory))]


DETECTION_KIND = EvalKind(COCO_EVAL_FILE, "detect eval", lambda _: "detection", _rows)
