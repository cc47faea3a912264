"""`cvtool detect calibrate`: the score maps against sklearn and netcal, fit -> apply -> eval on
the tiny file, the errors, and half of the real COCO subset calibrating the other half."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from detect_fixtures import TINY_PREDICTIONS, det, write_json

import cvtool
from cvtool.detect.score_calibration import calibrate_scores, fit_score_calibration


@pytest.fixture(scope="module")
def scored() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Over-confident scores (right with probability score^3) and relative boxes."""
    rng = np.random.default_rng(0)
    scores = rng.uniform(0.05, 0.99, 3000)
    right = rng.random(3000) < scores**3
    boxes = rng.uniform(0.05, 0.5, (3000, 4))
    return scores, right, boxes


def test_isotonic_is_sklearns_map(scored) -> None:
    from sklearn.isotonic import IsotonicRegression

    scores, right, _ = scored
    ours = fit_score_calibration("isotonic", scores, right)
    iso = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(scores, right)
    grid = np.linspace(0, 1, 1001)
    np.testing.assert_allclose(calibrate_scores(ours, grid), iso.predict(grid), atol=1e-12)


def test_logistic_maps_match_netcal(scored) -> None:
    from netcal.scaling import LogisticCalibration

    scores, right, boxes = scored
    for method, features in (("platt", scores[:, None]), ("box", np.c_[scores, boxes])):
        ours = fit_score_calibration(method, scores, right, boxes)
        netcal = LogisticCalibration(detection=True)
        netcal.fit(features, right.astype(int))
        expected = netcal.transform(features)
        np.testing.assert_allclose(calibrate_scores(ours, scores, boxes), expected, atol=5e-3)


def test_fit_apply_and_evaluate_both_scores(cli, tmp_path, tiny_gt_path) -> None:
    preds = write_json(tmp_path / "preds.json", TINY_PREDICTIONS)
    fit = cli(
        "detect", "calibrate", preds, "--annotations", tiny_gt_path, "--out", tmp_path / "cal"
    )
    assert fit.exit_code == 0, fit.stderr
    assert fit.stdout.strip().splitlines()[-1] == str(tmp_path / "cal")
    record = json.loads((tmp_path / "cal" / "score_calibration.json").read_text())
    assert record["method"] == "platt" and record["fitted_on"]["matched"] == 4
    assert record["before"]["all"]["total"] == record["after"]["all"]["total"] == 5
    assert (tmp_path / "cal" / "plots" / "reliability_all.png").is_file()

    applied = cli("detect", "calibrate", preds, "--apply", tmp_path / "cal")
    assert applied.exit_code == 0, applied.stderr
    calibrated = tmp_path / "preds_calibrated.json"
    assert applied.stdout.strip().splitlines()[-1] == str(calibrated)
    rows = json.loads(calibrated.read_text())
    assert [r["score_raw"] for r in rows] == [d["score"] for d in TINY_PREDICTIONS]
    a, b = record["parameters"]["a"], record["parameters"]["b"]
    raw = np.array([d["score"] for d in TINY_PREDICTIONS])
    expected = 1 / (1 + np.exp(-(a * np.log(raw / (1 - raw)) + b)))
    np.testing.assert_allclose([r["score"] for r in rows], expected, rtol=1e-12)
    # a logistic fit with an intercept matches the number right on its own fit set
    assert sum(r["score"] for r in rows) == pytest.approx(4, abs=1e-3)

    raw_eval = cvtool.evaluate_detections(preds, tiny_gt_path, tmp_path / "e-raw", plots=False)
    result = cli("detect", "eval", calibrated, "--annotations", tiny_gt_path, "--json")
    assert result.exit_code == 0, result.stderr
    headline = json.loads(result.stdout)
    assert headline["AP"] == raw_eval.headline["AP"]  # platt keeps the ranking
    assert headline["ece_raw"] == pytest.approx(raw_eval.headline["ece"], abs=1e-12)
    out = tmp_path / "preds_calibrated_eval"
    calibration = json.loads((out / "calibration.json").read_text())
    assert calibration["by_scale"]["all"]["ece"] == pytest.approx(headline["ece"])
    assert "ECE @IoU0.5, raw scores" in (out / "report.md").read_text()
    assert (out / "plots" / "reliability_all.png").is_file()


def test_bad_inputs_name_the_problem(cli, tmp_path, tiny_gt_path) -> None:
    fit = ("--annotations", tiny_gt_path, "--out", tmp_path / "cal")
    empty = write_json(tmp_path / "empty.json", [])
    result = cli("detect", "calibrate", empty, *fit)
    assert result.exit_code == 1 and "empty.json holds no predictions" in result.stderr

    misses = write_json(tmp_path / "misses.json", [det(1, 1, [60, 0, 30, 30], 0.9)] * 3)
    result = cli("detect", "calibrate", misses, *fit)
    assert result.exit_code == 1
    assert "none of the 3 predictions in" in result.stderr and "IoU 0.5" in result.stderr

    preds = write_json(tmp_path / "preds.json", TINY_PREDICTIONS)
    result = cli("detect", "calibrate", preds, *fit, "--method", "beta")
    assert result.exit_code == 2 and "unknown score calibration 'beta'" in result.stderr
    assert "platt, isotonic, box" in result.stderr

    result = cli("detect", "calibrate", preds, "--out", tmp_path / "cal")
    assert result.exit_code == 2 and "--annotations" in result.stderr

    assert cli("detect", "calibrate", preds, *fit, "--method", "box").exit_code == 0
    result = cli("detect", "calibrate", empty, "--apply", tmp_path / "cal")
    assert result.exit_code == 1 and "empty.json holds no predictions" in result.stderr
    result = cli("detect", "calibrate", preds, "--apply", tmp_path / "cal")
    assert result.exit_code == 1 and "box-aware calibration needs the image sizes" in result.stderr
    assert "--annotations" in result.stderr
    done = cli("detect", "calibrate", preds, "--apply", tmp_path / "cal", "--annotations",
               tiny_gt_path)  # fmt: skip
    assert done.exit_code == 0, done.stderr
    again = cli("detect", "calibrate", tmp_path / "preds_calibrated.json", *fit, "--overwrite")
    assert again.exit_code == 1 and "is already calibrated" in again.stderr


def _halves(annotations: Path, preds: list[dict], root: Path) -> list[tuple[Path, Path]]:
    """The COCO subset split into its even and odd images: (annotations, predictions) each."""
    data = json.loads(annotations.read_text())
    ids = sorted(im["id"] for im in data["images"])
    out = []
    for half, keep in enumerate((set(ids[0::2]), set(ids[1::2]))):
        part = {
            **data,
            "images": [im for im in data["images"] if im["id"] in keep],
            "annotations": [a for a in data["annotations"] if a["image_id"] in keep],
        }
        mine = [p for p in preds if p["image_id"] in keep]
        out.append((write_json(root / f"gt{half}.json", part),
                    write_json(root / f"pred{half}.json", mine)))  # fmt: skip
    return out


@pytest.mark.realdata
@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_half_the_coco_subset_calibrates_the_other(coco_gt, coco_annotations, tmp_path, method):
    from cvtool.synthetic.detections import Damage, damaged_predictions

    preds = damaged_predictions(coco_gt, Damage.demo(), seed=0)
    for p in preds:
        p["score"] = p["score"] ** 0.25  # over-confident on purpose
    (fit_gt, fit_preds), (test_gt, test_preds) = _halves(coco_annotations, preds, tmp_path)
    cvtool.calibrate_detections(fit_preds, fit_gt, tmp_path / "cal", method=method)
    calibrated = cvtool.apply_detection_calibration(test_preds, tmp_path / "cal").path
    before = cvtool.evaluate_detections(test_preds, test_gt, tmp_path / "before", plots=False)
    after = cvtool.evaluate_detections(calibrated, test_gt, tmp_path / "after", plots=False)
    by_scale = json.loads((tmp_path / "after" / "calibration.json").read_text())
    for scale in ("all", "small", "medium", "large"):
        raw, new = by_scale["raw_by_scale"][scale]["ece"], by_scale["by_scale"][scale]["ece"]
        assert new < raw, scale
    change = after.headline["AP"] - before.headline["AP"]
    if method == "platt":
        assert change == 0.0  # a strictly increasing map keeps COCO's ranking
    else:
        assert abs(change) < 0.01  # isotonic ties reorder a few detections
