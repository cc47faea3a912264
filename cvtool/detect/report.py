"""`report.md`: COCO, TIDE and calibration numbers side by side for all / small / medium / large."""

from __future__ import annotations

from typing import Any

from cvtool.detect.scales import SCALES
from cvtool.detect.tide import MAIN_ERRORS, SPECIAL_ERRORS

COLUMNS = ("all", *SCALES)


def summary_rows(
    coco: dict[str, Any], tide: dict[str, Any], calib: dict[str, Any]
) -> list[tuple[str, list[str]]]:
    """Rows of (metric, [value per column]) shared by report.md and the terminal table."""
    stats = coco["stats"]

    def fmt(v: float | None, digits: int = 3) -> str:
        return "n/a" if v is None or v < 0 else f"{v:.{digits}f}"

    def scale_stat(prefix: str, col: str, overall: str) -> str:
        return fmt(stats[overall] if col == "all" else stats[f"{prefix}_{col}"])

    def tide_value(col: str, key: str, group: str | None = None) -> str:
        res = tide["by_scale"][col]
        if res is None:
            return "n/a"
        return fmt(res[group][key] if group else res[key], 2)

    def calib_value(col: str, key: str, scores: str = "by_scale") -> str:
        res = (calib.get(scores) or {}).get(col)
        return "n/a" if res is None else fmt(res[key], 4)

    rows = [
        ("COCO AP@[.5:.95]", [scale_stat("AP", c, "AP") for c in COLUMNS]),
        ("COCO AR@100", [scale_stat("AR", c, "AR100") for c in COLUMNS]),
        ("COCO AP50", [fmt(stats["AP50"]), "", "", ""]),
        ("COCO AP75", [fmt(stats["AP75"]), "", "", ""]),
        ("TIDE AP50", [tide_value(c, "ap50") for c in COLUMNS]),
    ]
    rows += [
        (f"TIDE dAP {e}", [tide_value(c, e, "main_errors") for c in COLUMNS]) for e in MAIN_ERRORS
    ]
    rows += [
        (f"TIDE dAP {e}", [tide_value(c, e, "special_errors") for c in COLUMNS])
        for e in SPECIAL_ERRORS
    ]
    rows += [
        ("ECE @IoU0.5", [calib_value(c, "ece") for c in COLUMNS]),
        ("adaptive ECE @IoU0.5", [calib_value(c, "adaptive_ece") for c in COLUMNS]),
        ("MCE @IoU0.5", [calib_value(c, "mce") for c in COLUMNS]),
    ]
    if "raw_by_scale" in calib:
        rows += [
            ("ECE @IoU0.5, raw scores", [calib_value(c, "ece", "raw_by_scale") for c in COLUMNS]),
            (
                "adaptive ECE @IoU0.5, raw scores",
                [calib_value(c, "adaptive_ece", "raw_by_scale") for c in COLUMNS],
            ),
        ]
    rows += [
        ("objects (TIDE)", [_count(tide, c, "num_ground_truth") for c in COLUMNS]),
        ("predictions (TIDE)", [_count(tide, c, "num_predictions") for c in COLUMNS]),
    ]
    return rows


def _count(tide: dict[str, Any], col: str, key: str) -> str:
    res = tide["by_scale"][col]
    return "0" if res is None else str(res[key])


def render_report(
    coco: dict[str, Any], tide: dict[str, Any], calib: dict[str, Any], meta: dict[str, Any]
) -> str:
    header = "| metric | " + " | ".join(COLUMNS) + " |"
    lines = [
        f"# Detection evaluation: {meta['title']}",
        "",
        f"- predictions: `{meta['predictions']}` ({meta['num_scored']} scored)",
        f"- ground truth: `{meta['annotations']}` ({meta['num_images']} images, "
        f"{meta['num_objects']} non-crowd objects)",
        f"- COCO backend: {coco['backend']}",
    ]
    if meta.get("label"):
        lines.append(f"- **{meta['label']}**")
    dropped = {k: v for k, v in meta["dropped"].items() if v}
    if dropped:
        lines.append(
            "- not scored: "
            + ", ".join(f"{v} prediction(s) with {k.replace('_', ' ')}" for k, v in dropped.items())
        )
    lines += [
        "",
        header,
        "|" + "---|" * (len(COLUMNS) + 1),
        *(
            f"| {name} | " + " | ".join(vals) + " |"
            for name, vals in summary_rows(coco, tide, calib)
        ),
        "",
        "## How the numbers are made",
        "",
        f"- Scales: small < 32², medium 32²-96², large >= 96² pixels. Objects are split by "
        f"{tide['area_source']} (the COCO definition uses the annotation's `area` field, the "
        "segmentation area), so the COCO and TIDE columns use the same objects.",
        f"- {tide['prediction_scale_rule']}",
        "- COCO AP/AR are pycocotools' 12 standard stats (0-1). TIDE values are AP50 points "
        "(0-100) as tidecv reports them; dAP is the AP50 gained by fixing that error type.",
        "- Calibration: each prediction is matched greedily by score to an unmatched object of its "
        "class at IoU >= 0.5; ECE compares the score with matched-or-not in "
        f"{calib.get('n_bins', 'equal-width')} equal-width bins. Predictions inside crowd regions "
        "are left out. Adaptive ECE uses equal-mass bins instead.",
    ]
    if "raw_by_scale" in calib:
        lines.append(
            "- These predictions are calibrated (`cvtool detect calibrate --apply`): the rows "
            "marked raw score the detector's own scores (`score_raw`)."
        )
    for key in ("skipped", "raw_skipped"):
        if calib.get(key):
            lines.append(f"- Calibration skipped: {calib[key]}")
    lines += ["", "Plots: `plots/`.", ""]
    return "\n".join(lines)
