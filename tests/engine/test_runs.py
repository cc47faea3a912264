"""Runs you can replay and continue: config files, replay, resume rules, training further,
default run dirs, patience, and the engine's Python API (sizes, parameters, quiet)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from cvtool.core.console import quiet
from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.engine.config import TrainConfig
from cvtool.engine.manifest import RunManifest
from cvtool.engine.trainer import train

TINY = ("--width", "4", "--size", "24x24", "--batch-size", "4", "--workers", "0")
TINY += ("--device", "cpu")


def _rows(run: Path) -> list[dict[str, str]]:
    with (run / "history.csv").open() as f:
        return [{k: v for k, v in r.items() if k != "time_s"} for r in csv.DictReader(f)]


def _run_json(run: Path) -> dict:
    return json.loads((run / "run.json").read_text())


def _config(data: Path, out: Path | None, **kw) -> TrainConfig:
    base = dict(model_kwargs={"width": 4}, epochs=1, batch_size=4, size=24, workers=0, seed=3)
    return TrainConfig("unet", data, out, **{**base, **kw})


def test_replay_of_a_run_json_reproduces_its_history(cli, seg_data: Path, tmp_path: Path):
    first, replay = tmp_path / "first", tmp_path / "replay"
    args = ("--augment", "flip", "--seed", "7", "--mixup", "0.2", "--epochs", "2")
    result = cli("train", "unet", "--data", seg_data, "--out", first, *TINY, *args)
    assert result.exit_code == 0, result.stderr
    result = cli("train", "unet", "--config", first / "run.json", "--out", replay)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(replay)
    assert _rows(replay) == _rows(first) and len(_rows(first)) == 2
    assert _run_json(replay)["options"] == _run_json(first)["options"]


def test_yaml_config_with_command_line_overrides(cli, seg_data: Path, tmp_path: Path):
    config = tmp_path / "unet.yaml"
    config.write_text(
        f"data: {seg_data}\nwidth: 4\nbatch-size: 4\nsize: 24x24\nworkers: 0\n"
        "epochs: 3\nlr: 3e-3\nscheduler: cosine\ndevice: cpu\n"
    )
    out = tmp_path / "run"
    result = cli("train", "unet", "--config", config, "--out", out, "--epochs", "1")
    assert result.exit_code == 0, result.stderr
    options = _run_json(out)["options"]
    assert options["epochs"] == 1  # given on the command line: overrides the file
    assert options["batch_size"] == 4 and options["size"] == [24, 24]  # from the file
    assert options["lr"] == 0.003 and options["scheduler"] == "cosine"
    assert options["model_kwargs"] == {"width": 4, "upsample": "transpose"}
    config.write_text("model: segnet\nepochs: 1\n")
    result = cli("train", "unet", "--config", config, "--data", seg_data)
    assert result.exit_code == 2 and "for model 'segnet'" in result.stderr
    config.write_text("epochs: 1\nbatch: 4\n")
    result = cli("train", "unet", "--config", config, "--data", seg_data)
    assert result.exit_code == 2 and "unknown option(s) batch" in result.stderr


def test_resume_reuses_the_stored_options(cli, seg_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = cli("train", "unet", "--data", seg_data, "--out", out, *TINY, "--epochs", "1")
    assert result.exit_code == 0, result.stderr
    result = cli("train", "unet", "--resume", "--out", out, "--epochs", "2")
    assert result.exit_code == 0, result.stderr
    assert [r["epoch"] for r in _rows(out)] == ["1", "2"]
    run = _run_json(out)
    assert run["options"]["size"] == [24, 24] and run["epochs_completed"] == 2
    for option, extra in (
        ("--size", ("--size", "32")),
        ("--lr", ("--lr", "0.5")),
        ("--amp", ("--no-amp",)),
    ):
        result = cli("train", "unet", "--resume", "--out", out, "--epochs", "3", *extra)
        assert result.exit_code == 1, result.stderr
        assert f"error: {option}: cannot resume" in result.stderr
    result = cli("train", "unet", "--resume", "--out", out, "--epochs", "2")
    assert result.exit_code == 1 and "already finished epoch 2 of 2" in result.stderr
    assert cli("train", "unet", "--resume", "--epochs", "3").exit_code == 2  # which run?
    assert cli("train", "segnet", "--resume", "--out", out, "--epochs", "3").exit_code == 1


def test_resume_from_python_names_the_differing_option(seg_data: Path, tmp_path: Path):
    from cvtool.engine.options import resume_config

    out = tmp_path / "run"
    train(_config(seg_data, out))
    with pytest.raises(CvtoolError, match=r"lr 0.001 \(now 0.5\)") as err:
        train(_config(seg_data, out, epochs=2, lr=0.5, resume=True))
    assert err.value.param == "lr" and "--" not in err.value.message
    recorded = RunManifest.load(out)
    assert recorded.config(out=out) == _config(seg_data, out).resolved()
    config = resume_config(out, epochs=2, workers=1)
    assert (config.size, config.seed, config.resume, config.out) == (24, 3, True, out)
    assert train(config).history[-1]["epoch"] == 2


@pytest.mark.parametrize("scheduler", ["onecycle", "poly"])
def test_training_further_after_a_finished_run(seg_data: Path, tmp_path: Path, scheduler):
    """The schedule is rebuilt for the new total: from the step reached, the learning rate is
    that of a run planned for the new total from the start."""
    train(_config(seg_data, tmp_path / "a", epochs=2, scheduler=scheduler))
    further = train(_config(seg_data, tmp_path / "a", epochs=3, scheduler=scheduler, resume=True))
    planned = train(_config(seg_data, tmp_path / "b", epochs=3, scheduler=scheduler))
    assert len(further.history) == 3
    assert further.history[2]["lr"] == pytest.approx(planned.history[2]["lr"], rel=1e-12)


def _scripted(scores: list[float]):
    """A stand-in for one epoch that reports the given validation mIoU."""

    def run_epoch(run, epoch: int) -> dict:
        score = scores[epoch - 1]
        return {"epoch": epoch, "lr": 0.1, "train_loss": 1.0, "train_accuracy": 0.5,
                "train_miou": score, "val_loss": 1.0, "val_accuracy": 0.5, "val_miou": score,
                "time_s": 0.0}  # fmt: skip

    return run_epoch


def test_patience_stops_early(cli, monkeypatch, seg_data: Path, tmp_path: Path) -> None:
    monkeypatch.setattr("cvtool.engine.trainer.run_epoch", _scripted([0.5, 0.6, 0.6, 0.55, 0.7]))
    out = tmp_path / "run"
    args = ("--out", out, "--epochs", "5", "--patience", "2", "--json")
    result = cli("train", "unet", "--data", seg_data, *TINY, *args)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["stopped_early"] is True and summary["epochs"] == 4
    assert summary["best_epoch"] == 2 and "stopping early" in result.stderr
    run = _run_json(out)
    assert run["stopped_early"] == {"epoch": 4, "patience": 2} and run["epochs_completed"] == 4
    assert run["options"]["patience"] == 2 and len(_rows(out)) == 4
    result = cli("train", "unet", "--resume", "--out", out, "--epochs", "6")
    assert result.exit_code == 1 and "stopped early at epoch 4" in result.stderr


def test_default_run_dirs_are_numbered(cli, monkeypatch, seg_data: Path, tmp_path: Path):
    monkeypatch.setattr("cvtool.engine.trainer.run_epoch", _scripted([0.5]))
    monkeypatch.chdir(tmp_path)
    for expected in ("runs/train/unet", "runs/train/unet2"):
        result = cli("train", "unet", "--data", seg_data, *TINY, "--epochs", "1")
        assert result.exit_code == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == expected
        assert (tmp_path / expected / "run.json").is_file()


def test_callbacks_see_the_epochs_of_the_history_and_quiet_silences(
    capsys, seg_data: Path, tmp_path: Path
) -> None:
    seen: list[tuple[int, int]] = []
    record = lambda epoch, row: seen.append((epoch, row["epoch"]))  # noqa: E731
    with quiet():
        result = train(_config(seg_data, tmp_path / "run", epochs=2), callbacks=[record])
    assert seen == [(1, 1), (2, 2)] and [r["epoch"] for r in result.history] == [1, 2]
    assert capsys.readouterr().err == ""


def test_train_config_sizes_and_values() -> None:
    sizes = {"32x32": (32, 32), "32": 32, 32: 32, (32, 48): (32, 48), "": None, None: None}
    for given, expected in sizes.items():
        assert TrainConfig("unet", size=given).size == expected
    config = TrainConfig("unet", crop=[16, 20], mean="0.5,0.5,0.5", lr="1e-3", epochs="3")
    assert (config.crop, config.mean, config.lr, config.epochs) == ((16, 20), (0.5,) * 3, 1e-3, 3)
    bad = [("size", "32x"), ("crop", 0), ("mean", "1,2"), ("epochs", 2.5), ("amp", "yes")]
    for param, value in bad:
        with pytest.raises(ParameterError) as err:
            TrainConfig("unet", **{param: value})
        assert err.value.param == param and "--" not in err.value.message
    resolve_errors = [
        ({"model": "unet3d"}, "model"),
        ({"model_kwargs": {"depth": 3}}, "model_kwargs"),
        ({"model_kwargs": {"upsample": "nearest"}}, "upsample"),
        ({"batch_size": 0}, "batch_size"),
        ({"scheduler": "step"}, "scheduler"),
        ({"size": 24, "crop": 32}, "crop"),
        ({"data": None}, "data"),
    ]
    for options, param in resolve_errors:
        with pytest.raises(ParameterError) as err:
            TrainConfig(**{"model": "unet", "data": Path("d"), **options}).resolved()
        assert err.value.param == param and "--" not in err.value.message
    resolved = TrainConfig("segnet", data=Path("d")).resolved()
    assert resolved.model_kwargs == {"pretrained": True, "weights": None, "freeze_encoder": False}
    assert (resolved.optimizer, resolved.lr, resolved.scheduler) == ("sgd", 0.01, "poly")


def test_version_1_checkpoint_loads_but_does_not_resume(tmp_path: Path, seg_data: Path) -> None:
    """Checkpoints of cvtool 0.1 kept their description as top-level keys: still usable."""
    from cvtool.engine.checkpoint import load_checkpoint
    from cvtool.engine.options import resume_config
    from cvtool.engine.registry import build_model

    model = build_model("unet", 3, width=4)
    payload = {
        "format": "cvtool-checkpoint",
        "format_version": 1,
        "model_name": "unet",
        "model_kwargs": {"width": 4},
        "task": "segmentation",
        "classes": [{"id": i, "name": n, "color": [i, i, i]} for i, n in enumerate("abc")],
        "ignore_index": 255,
        "preprocess": {"size": [16, 24], "crop": None, "mean": [0.5] * 3, "std": [0.25] * 3},
        "dataset": str(seg_data),
        "epoch": 3,
        "model": model.state_dict(),
        "best": {"epoch": 2, "metric": "val_miou", "value": 0.5},
    }
    path = tmp_path / "old" / "checkpoints" / "last.pt"
    path.parent.mkdir(parents=True)
    torch.save(payload, path)
    loaded = load_checkpoint(path)
    assert (loaded.model_name, loaded.epoch, loaded.task) == ("unet", 3, "segmentation")
    assert [c.name for c in loaded.classes] == ["a", "b", "c"]
    with pytest.raises(CvtoolError, match="cannot be resumed"):
        resume_config(tmp_path / "old", epochs=5)
