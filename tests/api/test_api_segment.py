"""prepare, stats, train, evaluate, merge and compare from Python: arguments, quiet, results."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import cvtool
from cvtool.synthetic.shapes import SHAPES


def perfect_predictions(data: Path, out: Path) -> Path:
    """The dataset's own masks with ignored pixels set to background: a perfect prediction."""
    out.mkdir()
    for path in (data / "masks").glob("*.png"):
        mask = np.array(Image.open(path))
        mask[mask == 255] = 0
        Image.fromarray(mask).save(out / path.name)
    return out


def test_prepare_is_quiet_by_default(capfd, tmp_path, shapes_coco) -> None:
    annotations, images = shapes_coco
    result = cvtool.prepare_coco(
        str(annotations), images, "circle, square", tmp_path / "two", workers=1
    )
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert result.path == tmp_path / "two" and result.task == "segmentation"
    assert result.classes == ["background", "circle", "square"]
    assert sum(result.splits.values()) == result.summary["images"] > 0
    assert json.loads(json.dumps(result.to_dict()))["path"] == str(tmp_path / "two")


def test_prepare_shows_progress_when_asked(capfd, tmp_path, shapes_coco) -> None:
    cvtool.prepare_coco(*shapes_coco, ["circle"], tmp_path / "one", workers=1, progress=True)
    out, err = capfd.readouterr()
    assert out == "" and "masks" in err


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [({"split": "0.8,0.3"}, "split"), ({"classes": [1, 2]}, "classes"), ({"out": 3}, "out")],
)
def test_prepare_bad_parameter(tmp_path, shapes_coco, kwargs, param) -> None:
    annotations, images = shapes_coco
    args = {"classes": "circle", "out": tmp_path / "x", **kwargs}
    with pytest.raises(cvtool.ParameterError) as error:
        cvtool.prepare_coco(annotations, images, **args)
    assert error.value.param == param
    assert param in error.value.message and "--" not in str(error.value)
    assert not (tmp_path / "x").exists()


def test_dataset_stats(capfd, shapes_data) -> None:
    stats = cvtool.dataset_stats(str(shapes_data), workers=1)
    assert stats.path == shapes_data / "stats" and stats.unit == "pixels"
    assert stats.csv.is_file() and stats.plot.is_file()
    assert sum(sum(split.values()) for split in stats.counts.values()) == 8 * 24 * 24
    assert capfd.readouterr() == ("", "")


def test_train_normalises_options(monkeypatch, tmp_path, shapes_data) -> None:
    from cvtool.engine import trainer

    seen = {}

    def fake_train(config, callbacks=()):
        seen["config"] = config
        return trainer.TrainResult(config.out, [{"epoch": 1}], 1, "val_miou", 0.5)

    monkeypatch.setattr(trainer, "train", fake_train)
    run = cvtool.train(
        "unet",
        str(shapes_data),
        tmp_path / "run",
        width=4,
        upsample="bilinear",
        epochs=1,
        size="32x48",
        crop=(32, 32),
        mean="0.5,0.5,0.5",
        std=[0.25, 0.25, 0.25],
    )
    config = seen["config"]
    assert config.model_kwargs == {"width": 4, "upsample": "bilinear"}
    assert (config.size, config.crop) == ((32, 48), (32, 32))
    assert (config.mean, config.std) == ((0.5,) * 3, (0.25,) * 3)
    assert config.data == shapes_data and config.epochs == 1
    assert (run.path, run.epochs, run.best_metric, run.best_value) == (
        tmp_path / "run",
        1,
        "val_miou",
        0.5,
    )

    cvtool.train("unet", shapes_data, size="256", crop=None)
    assert (seen["config"].size, seen["config"].crop) == (256, None)


@pytest.mark.parametrize(
    ("model", "options", "param"),
    [
        ("unet", {"size": "32 by 32"}, "size"),
        ("unet", {"mean": "0.5,0.5"}, "mean"),
        ("unet", {"epoch": 3}, "epoch"),
        ("unet2", {}, "model"),
    ],
)
def test_train_bad_parameter(tmp_path, shapes_data, model, options, param) -> None:
    with pytest.raises(cvtool.ParameterError) as error:
        cvtool.train(model, shapes_data, tmp_path / "run", **options)
    assert error.value.param == param
    assert param in error.value.message and "--" not in str(error.value)


def test_evaluate_bad_shard(tmp_path) -> None:
    with pytest.raises(cvtool.ParameterError) as error:
        cvtool.evaluate(tmp_path / "run", shard="2/2")
    assert error.value.param == "shard"


def test_predictions_shards_merge_and_compare(capfd, tmp_path, shapes_data) -> None:
    predictions = perfect_predictions(shapes_data, tmp_path / "pred")
    full = cvtool.evaluate_predictions(predictions, shapes_data, "train", workers=1)
    assert full.path == tmp_path / "pred-eval-train"
    assert (full.task, full.images, full.headline["miou"]) == ("segmentation", 4, 1.0)
    shards = [
        cvtool.evaluate_predictions(
            str(predictions), shapes_data, "train", tmp_path / f"s{i}", shard=shard, workers=1
        )
        for i, shard in enumerate(["0/2", (1, 2)])
    ]
    assert [s.images for s in shards] == [2, 2]
    merged = cvtool.merge_evaluations([s.path for s in shards], tmp_path / "merged")
    assert (merged.images, merged.headline) == (4, full.headline)
    comparison = cvtool.compare([full.path, merged.path], tmp_path / "cmp")
    assert comparison.task == "segmentation" and len(comparison.models) == 2
    assert [row["miou"] for row in comparison.models] == [1.0, 1.0]
    assert (tmp_path / "cmp" / "comparison.md").is_file()
    assert capfd.readouterr() == ("", "")


def test_prepare_folder_classification(tmp_path) -> None:
    from cvtool.synthetic.shapes import write_shape_folder

    root = write_shape_folder(tmp_path / "shapes", per_class=5, size=16)
    result = cvtool.prepare_folder(root, tmp_path / "cls", val=0.2, test=0.2, workers=1)
    assert result.task == "classification" and result.classes == sorted(SHAPES)
    assert result.splits == {"train": 12, "val": 4, "test": 4}
