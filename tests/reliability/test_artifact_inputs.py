"""Artifacts read back by later stages (eval dirs, checkpoints, detect runs): an edited,
truncated or foreign file is refused with its name and the fix; bad option values are usage
errors; no stage writes over what it reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus import Case, assert_refused, write_json

from tests.detect.detect_fixtures import tiny_dataset
from tests.segment.conftest import label_masks, noisy_predictions, write_dataset, write_predictions

GARBLED = {
    "truncated": None,  # the file cut in half
    "a list": [1, 2],
    "no headline": {"task": "segmentation", "images": 4},
    "headline of text": {"task": "segmentation", "images": 4, "headline": {"miou": "high"}},
    "images of text": {"task": "segmentation", "images": "four", "headline": {}},
}


@pytest.fixture
def evals(tmp_path: Path, cli) -> tuple[Path, Path, Path]:
    """A dataset, predictions and two eval dirs (the shards of one evaluation)."""
    masks = label_masks()
    data = write_dataset(tmp_path / "data", masks)
    preds = write_predictions(tmp_path / "preds", noisy_predictions(masks))
    shards = []
    for i in range(2):
        out = tmp_path / f"shard{i}"
        args = ["evaluate", "--predictions", preds, "--data", data, "--out", out]
        assert cli(*args, "--shard", f"{i}/2", "--workers", 1).exit_code == 0
        shards.append(out)
    return preds, shards[0], shards[1]


@pytest.mark.parametrize("how", list(GARBLED))
def test_garbled_metrics_are_refused_by_compare_and_merge(how, evals, tmp_path, cli) -> None:
    _, first, second = evals
    metrics = second / "metrics.json"
    text = metrics.read_text()
    garbled = GARBLED[how]
    metrics.write_text(text[: len(text) // 2] if garbled is None else json.dumps(garbled))
    out = tmp_path / "out"
    cases = [
        Case("compare", ["compare", first, second, "--out", out], 1, [str(metrics)]),
        Case("merge", ["evaluate", "--merge", first, second, "--out", out], 1, [str(metrics)]),
    ]
    for case in cases:
        err = assert_refused(cli, case, tmp_path)
        assert "hint:" in err


def test_evaluation_never_writes_over_its_inputs(evals, tmp_path: Path, cli) -> None:
    preds, first, second = evals
    data = tmp_path / "data"
    base = ["evaluate", "--predictions", preds, "--data", data]
    cases = [
        Case("into predictions", [*base, "--out", preds, "--overwrite"], 2, ["--predictions"]),
        Case(
            "into the dataset",
            [*base, "--out", data / "images" / "e"],
            2,
            ["lies inside the input"],
        ),
        Case("holds the dataset", [*base, "--out", tmp_path, "--overwrite"], 2, ["contains"]),
        Case(
            "merge into a shard",
            ["evaluate", "--merge", first, second, "--out", first, "--overwrite"],
            2,
            ["is the input"],
        ),
        Case("existing", [*base, "--out", first], 1, ["already exists"]),
    ]
    for case in cases:
        assert_refused(cli, case, tmp_path)


def test_a_checkpoint_with_pickled_objects_is_refused_safely(tmp_path: Path, cli) -> None:
    import torch

    path = tmp_path / "model.pt"
    torch.save({"format": "cvtool", "model": Path("x")}, path)  # a Path is not a tensor
    case = Case(
        "pickled",
        ["evaluate", path, "--out", tmp_path / "e"],
        1,
        [str(path), "pickled Python objects", "pathlib"],
    )
    err = assert_refused(cli, case, tmp_path)
    assert "weights_only" not in err
    path.write_bytes(b"\x80\x04not a checkpoint")
    case = Case("junk", ["evaluate", path, "--out", tmp_path / "e"], 1, ["corrupt or not"])
    err = assert_refused(cli, case, tmp_path)
    assert "weights_only" not in err


def test_detect_option_values_and_outputs(tmp_path: Path, cli) -> None:
    gt = write_json(tmp_path / "gt.json", tiny_dataset())
    preds = write_json(tmp_path / "preds.json", [])
    images = tmp_path / "images"
    images.mkdir()
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"")
    run = ["detect", "run", "--weights", weights, "--images", images]
    cases = [
        Case("conf", [*run, "--conf", 2, "--out", tmp_path / "r"], 2, ["--conf"]),
        Case("iou", [*run, "--iou", -1, "--out", tmp_path / "r"], 2, ["--iou"]),
        Case("max det", [*run, "--max-det", 0, "--out", tmp_path / "r"], 2, ["--max-det"]),
        Case("into images", [*run, "--out", images / "r"], 2, ["lies inside the input --images"]),
        Case(
            "backend",
            ["detect", "eval", preds, "--annotations", gt, "--backend", "x"],
            2,
            ["--backend"],
        ),
        Case(
            "over the gt",
            ["detect", "eval", preds, "--annotations", gt, "--out", tmp_path, "--overwrite"],
            2,
            ["contains the input"],
        ),
    ]
    for case in cases:
        assert_refused(cli, case, tmp_path)


def test_one_malformed_file_per_format(tmp_path: Path, cli) -> None:
    """Each file format a stage reads, edited into something it cannot be: refused by name."""
    from cvtool.synthetic.tracks import SyntheticConfig, write_sequence

    masks = label_masks()
    data = write_dataset(tmp_path / "data", masks)
    preds = write_predictions(tmp_path / "preds", noisy_predictions(masks))
    manifest = json.loads((data / "dataset.json").read_text())
    (data / "dataset.json").write_text(json.dumps({**manifest, "classes": "road,car"}))
    gt = write_json(tmp_path / "gt.json", tiny_dataset())
    results = write_json(tmp_path / "results.json", [{"image_id": 1, "score": 0.5}])
    seqs = tmp_path / "mot"
    write_sequence(seqs, SyntheticConfig(frames=10, objects=2, occlusions=0), "SEQ-A")
    write_sequence(seqs, SyntheticConfig(frames=10, objects=2, occlusions=0), "SEQ-B")
    (seqs / "SEQ-A" / "det" / "det.txt").write_text("1,-1,a,b\n")
    (seqs / "SEQ-B" / "seqinfo.ini").write_text("[Sequence]\nseqLength=ten\n")
    voc = tmp_path / "voc"
    (voc / "JPEGImages").mkdir(parents=True)
    (voc / "SegmentationClass").mkdir()
    (voc / "class_names.txt").write_text("background\ncat\ncat\n")
    out = tmp_path / "out"
    cases = [
        Case(
            "dataset.json",
            ["evaluate", "--predictions", preds, "--data", data, "--out", out],
            1,
            [str(data / "dataset.json"), "malformed"],
        ),
        Case(
            "COCO results",
            ["detect", "eval", results, "--annotations", gt, "--out", out],
            1,
            [str(results), "entry #0", "missing 'category_id'"],
        ),
        Case(
            "det.txt",
            ["track", "mot17", "--root", seqs, "--seqs", "SEQ-A", "--out", out],
            1,
            ["SEQ-A/det/det.txt", "not MOTChallenge CSV"],
        ),
        Case(
            "seqinfo.ini",
            ["track", "mot17", "--root", seqs, "--seqs", "SEQ-B", "--out", out],
            1,
            ["SEQ-B/seqinfo.ini"],
        ),
        Case(
            "class_names.txt",
            ["prepare", "voc", "--root", voc, "--out", out],
            1,
            ["class_names.txt", "distinct class names"],
        ),
        Case("track info", ["track", "info", seqs, "--out", seqs / "SEQ-A"], 2, ["input ROOT"]),
    ]
    for case in cases:
        assert_refused(cli, case, tmp_path)


EDITED_FIELDS = {
    "max_failures of text": ("settings", "max_failures", "x"),
    "negative candidates": (None, "failure_candidates", -1),
    "nonfinite counts of text": (None, "nonfinite_outputs", {"images": "x"}),
    "no classes": (None, "classes", []),
    "a failure without its IoU": (None, "failures", [{"name": "a.png", "file": "f.png"}]),
}


@pytest.mark.parametrize("how", list(EDITED_FIELDS))
def test_an_edited_shard_field_is_refused_by_merge(how, evals, tmp_path, cli) -> None:
    _, first, second = evals
    metrics = second / "metrics.json"
    meta = json.loads(metrics.read_text())
    section, key, value = EDITED_FIELDS[how]
    (meta[section] if section else meta)[key] = value
    metrics.write_text(json.dumps(meta))
    args = ["evaluate", "--merge", first, second, "--out", tmp_path / "out"]
    err = assert_refused(cli, Case("merge", args, 1, [str(metrics)]), tmp_path)
    assert "hint:" in err and "unexpected" not in err


def test_compare_refuses_scores_that_are_not_numbers(tmp_path: Path) -> None:
    from cvtool.core.compare import EvalKind, EvalRow, load_comparison
    from cvtool.core.errors import CvtoolError

    def rows(values):
        def read(directory: Path) -> list[EvalRow]:
            return [EvalRow("t", {}, values(), directory, str(directory))]

        return read

    (tmp_path / "summary.json").write_text("{}")
    for values, expected in (
        (lambda: {"HOTA": "high"}, "HOTA of t is 'high', not a number"),
        (lambda: {"IDSW": [1]}, "IDSW of t is [1], not a number"),
        (lambda: {}["HOTA"], "is not what `track eval` writes: KeyError"),
        (lambda: ["HOTA"], "the scores of t are not a mapping"),
    ):
        kind = EvalKind("summary.json", "track eval", lambda _: "tracking", rows(values))
        with pytest.raises(CvtoolError) as error:
            load_comparison([tmp_path], [kind])
        assert str(tmp_path / "summary.json") in str(error.value), expected
        assert expected in str(error.value)
