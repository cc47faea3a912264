"""`cvtool detect run` and `cvtool detect eval` end to end, artifacts and error paths."""

from __future__ import annotations

import json
import time

import pytest
from detect_fixtures import TINY_MAP, TINY_PREDICTIONS, write_json

EVAL_FILES = ("coco_eval.json", "tide.json", "calibration.json", "report.md")
PLOTS = (
    "pr_curves.png",
    "tide_all.png",
    "tide_small.png",
    "reliability_all.png",
    "reliability_large.png",
)


def test_eval_predictions_file(cli, tmp_path, tiny_gt_path):
    preds = write_json(tmp_path / "preds.json", TINY_PREDICTIONS)
    result = cli("detect", "eval", preds, "--annotations", tiny_gt_path)
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "preds_eval"
    assert result.stdout.strip().splitlines()[-1] == str(out)
    for name in EVAL_FILES:
        assert (out / name).is_file()
    for name in PLOTS:
        assert (out / "plots" / name).is_file()
    coco = json.loads((out / "coco_eval.json").read_text())
    assert coco["stats"]["AP50"] == pytest.approx(TINY_MAP)
    tide = json.loads((out / "tide.json").read_text())
    assert tide["by_scale"]["all"]["ap50"] == pytest.approx(100 * TINY_MAP)
    assert tide["area_source"] == "area field"
    calib = json.loads((out / "calibration.json").read_text())
    assert calib["by_scale"]["all"]["total"] == 5
    assert "| TIDE dAP Bkg |" in (out / "report.md").read_text()
    assert "TIDE AP50" in result.stderr  # the summary table


def test_eval_json_summary_and_out(cli, tmp_path, tiny_gt_path):
    preds = write_json(tmp_path / "preds.json", TINY_PREDICTIONS)
    out = tmp_path / "elsewhere"
    result = cli("detect", "eval", preds, "--annotations", tiny_gt_path, "--out", out,
                 "--no-plots", "--json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["path"] == str(out)
    assert summary["AP50"] == pytest.approx(TINY_MAP)
    assert not (out / "plots").exists()


def test_eval_run_dir_finds_its_annotations(cli, tmp_path, tiny_gt_path):
    run = tmp_path / "run"
    run.mkdir()
    write_json(run / "predictions.json", TINY_PREDICTIONS)
    write_json(run / "run.json", {"annotations": str(tiny_gt_path)})
    result = cli("detect", "eval", run, "--no-plots")
    assert result.exit_code == 0, result.stderr
    assert (run / "coco_eval.json").is_file()
    # the predictions path that `detect run` prints chains to the same run dir; an earlier
    # evaluation there is replaced only with --overwrite, the run's own files are kept
    result = cli("detect", "eval", run / "predictions.json", "--no-plots")
    assert result.exit_code == 1 and "already holds calibration.json" in result.stderr
    result = cli("detect", "eval", run / "predictions.json", "--no-plots", "--overwrite")
    assert result.exit_code == 0, result.stderr
    assert (run / "predictions.json").is_file() and (run / "run.json").is_file()
    assert result.stdout.strip().splitlines()[-1] == str(run)
    assert (run / "coco_eval.json").is_file()


def test_eval_unscored_predictions_are_reported(cli, tmp_path, tiny_gt_path):
    preds = write_json(
        tmp_path / "p.json",
        [*TINY_PREDICTIONS, {"image_id": 5, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}],
    )
    result = cli("detect", "eval", preds, "--annotations", tiny_gt_path, "--no-plots")
    assert result.exit_code == 0
    assert "1 with unknown image" in result.stderr
    coco = json.loads((tmp_path / "p_eval" / "coco_eval.json").read_text())
    assert coco["not_scored"]["unknown_image"] == 1
    assert "1 prediction(s) with unknown image" in (tmp_path / "p_eval" / "report.md").read_text()


def test_eval_bad_inputs_exit_1(cli, tmp_path, tiny_gt_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[{")
    result = cli("detect", "eval", bad, "--annotations", tiny_gt_path)
    assert result.exit_code == 1
    assert "bad.json is not valid JSON" in result.stderr
    result = cli("detect", "eval", write_json(tmp_path / "p.json", []))
    assert result.exit_code == 1
    assert "no annotation file" in result.stderr
    result = cli("detect", "eval", tmp_path / "p.json", "--annotations", tmp_path / "none.json")
    assert result.exit_code == 1
    assert "annotation file not found" in result.stderr


def test_eval_scores_outside_unit_interval_skip_calibration(cli, tmp_path, tiny_gt_path):
    logits = [{**d, "score": d["score"] * 10} for d in TINY_PREDICTIONS]
    result = cli("detect", "eval", write_json(tmp_path / "p.json", logits),
                 "--annotations", tiny_gt_path, "--no-plots")  # fmt: skip
    assert result.exit_code == 0
    calib = json.loads((tmp_path / "p_eval" / "calibration.json").read_text())
    assert "scores are not probabilities" in calib["skipped"]
    coco = json.loads((tmp_path / "p_eval" / "coco_eval.json").read_text())
    assert coco["stats"]["AP50"] == pytest.approx(TINY_MAP)  # ranking is all mAP needs


def test_run_missing_weights_fails_fast(cli, tmp_path, tiny_gt_path):
    images = tmp_path / "images"
    images.mkdir()
    for name in ("a.jpg", "b.jpg"):
        (images / name).write_bytes(b"")
    start = time.perf_counter()
    result = cli("detect", "run", "--weights", tmp_path / "yolov8n.pt", "--images", images,
                 "--annotations", tiny_gt_path, "--out", tmp_path / "run")  # fmt: skip
    assert time.perf_counter() - start < 5
    assert result.exit_code == 1
    assert "weights file not found" in result.stderr
    assert "nothing is downloaded" in result.stderr


def test_run_missing_images(cli, tmp_path, tiny_gt_path):
    images = tmp_path / "images"
    images.mkdir()
    (images / "a.jpg").write_bytes(b"")
    result = cli("detect", "run", "--weights", "yolov8n.yaml", "--images", images,
                 "--annotations", tiny_gt_path, "--out", tmp_path / "run")  # fmt: skip
    assert result.exit_code == 1
    assert "1 of the 2 images listed" in result.stderr
    assert "b.jpg" in result.stderr


@pytest.mark.realdata
@pytest.mark.slow
def test_run_then_eval_on_real_images(cli, tmp_path, shared_data, coco_annotations):
    """A random-weight YOLOv8n (no accuracy claim) saved as a local checkpoint with the 80 COCO
    class names: valid predictions, ids mapped by name onto the 91-id scheme, eval runs."""
    from cvtool.detect.yolo import load_yolo

    gt = json.loads(coco_annotations.read_text())
    model = load_yolo("yolov8n.yaml")
    model.model.names = {
        i: c["name"] for i, c in enumerate(sorted(gt["categories"], key=lambda c: c["id"]))
    }
    weights = tmp_path / "yolov8n-coco-names.pt"
    model.save(weights)
    images = shared_data / "coco" / "val2017"
    out = tmp_path / "yolo"
    result = cli("detect", "run", "--weights", weights, "--images", images,
                 "--annotations", coco_annotations, "--out", out, "--size", "160",
                 "--conf", "0.00001", "--max-det", "20", "--device", "cpu")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(out / "predictions.json")
    preds = json.loads((out / "predictions.json").read_text())
    image_ids = {im["id"] for im in gt["images"]}
    category_ids = {c["id"] for c in gt["categories"]}
    assert preds
    assert len({p["image_id"] for p in preds}) > 1
    for p in preds:
        assert p["image_id"] in image_ids and p["category_id"] in category_ids
        assert len(p["bbox"]) == 4 and 0 <= p["score"] <= 1
    run = json.loads((out / "run.json").read_text())
    assert run["num_images"] == 79 and run["images_per_second"] > 0
    assert run["unmatched_classes"] == []
    assert run["class_to_category"]["person"] == 1
    assert run["class_to_category"]["toothbrush"] == 90
    result = cli("detect", "eval", out, "--no-plots")
    assert result.exit_code == 0, result.stderr
    assert json.loads((out / "coco_eval.json").read_text())["num_predictions_scored"] == len(preds)


def test_help_has_examples(cli):
    for command in ("run", "eval"):
        result = cli("detect", command, "--help")
        assert result.exit_code == 0
        assert "Example" in result.stdout and f"cvtool detect {command}" in result.stdout


def test_list_images_without_annotations(tmp_path):
    from cvtool.core.errors import CvtoolError
    from cvtool.detect.yolo import list_images

    numeric = tmp_path / "numeric"
    numeric.mkdir()
    for name in ("000000000139.jpg", "000000000802.png", "notes.txt"):
        (numeric / name).write_bytes(b"")
    entries, categories = list_images(numeric, None)
    assert [(e.id, e.path.name) for e in entries] == [
        (139, "000000000139.jpg"),
        (802, "000000000802.png"),
    ]
    assert categories is None
    named = tmp_path / "named"
    named.mkdir()
    for name in ("b.jpg", "a.jpg"):
        (named / name).write_bytes(b"")
    assert [(e.id, e.path.name) for e in list_images(named, None)[0]] == [
        (1, "a.jpg"),
        (2, "b.jpg"),
    ]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CvtoolError, match="no images"):
        list_images(empty, None)
    with pytest.raises(CvtoolError, match="image directory not found"):
        list_images(tmp_path / "nope", None)
