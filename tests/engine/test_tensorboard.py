"""`logger="tensorboard"`: epoch scalars as train/val curves and validation masks as images."""

from __future__ import annotations

from pathlib import Path

import pytest

import cvtool
from cvtool.engine.loggers import scalar_tag


def test_tensorboard_logs_curves_and_validation_masks(seg_data: Path, tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = cvtool.train("unet", seg_data, tmp_path / "run", width=4, epochs=2, size="32x40",
                       batch_size=4, device="cpu", workers=0, logger="tensorboard")  # fmt: skip
    events = EventAccumulator(str(run.path / "tensorboard"))
    events.Reload()
    tags = events.Tags()
    assert {"loss/train", "loss/val", "miou/val", "accuracy/train", "lr"} <= set(tags["scalars"])
    assert [e.step for e in events.Scalars("miou/val")] == [1, 2]
    assert events.Scalars("miou/val")[-1].value == pytest.approx(run.history[-1]["val_miou"])
    image = events.Images("val/predictions")[-1]
    assert (image.width, image.height) == (3 * 40, 4 * 32)  # image | label | prediction, 4 rows
    assert (run.path / "history.csv").is_file()


def test_logger_names_are_checked(seg_data: Path, tmp_path: Path) -> None:
    with pytest.raises(cvtool.ParameterError) as error:
        cvtool.train("unet", seg_data, tmp_path / "run", logger="tensorboard,mlflow")
    assert error.value.param == "logger"


def test_scalar_tags_pair_train_and_val() -> None:
    assert scalar_tag("train_loss") == "loss/train" and scalar_tag("val_miou") == "miou/val"
    assert scalar_tag("lr") == "lr" and scalar_tag("time_s") == "time_s"
