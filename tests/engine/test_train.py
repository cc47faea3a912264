"""The training engine end to end: artifacts, metrics, resume, checkpoints, bad input, DDP."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from cvtool.core.errors import CvtoolError
from cvtool.engine.checkpoint import load_checkpoint, resolve_checkpoint
from cvtool.engine.config import TrainConfig
from cvtool.engine.trainer import train

TINY = ["--width", "4", "--size", "24", "--crop", "24", "--batch-size", "4"]


def _config(data: Path, out: Path, **kw) -> TrainConfig:
    base = dict(
        model="unet",
        data=data,
        out=out,
        model_kwargs={"width": 4},
        epochs=3,
        batch_size=4,
        size=24,
        crop=24,
        workers=0,
    )
    return TrainConfig(**{**base, **kw})


def _history(run: Path) -> list[dict[str, str]]:
    with (run / "history.csv").open() as f:
        return list(csv.DictReader(f))


def test_cli_two_epochs_writes_every_artifact(cli, seg_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = cli("train", "unet", "--data", seg_data, "--out", out, "--epochs", "2", *TINY)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(out)
    rows = _history(out)
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert list(rows[0]) == [
        "epoch", "lr", "train_loss", "train_accuracy", "train_miou",
        "val_loss", "val_accuracy", "val_miou", "time_s",
    ]  # fmt: skip
    for name in ("checkpoints/last.pt", "checkpoints/best.pt", "run.json"):
        assert (out / name).is_file()
    assert (out / "plots" / "curves.png").stat().st_size > 10_000
    run = json.loads((out / "run.json").read_text())
    assert run["model"] == "unet" and run["model_kwargs"] == {"width": 4, "upsample": "transpose"}
    assert run["epochs_completed"] == 2 and run["dataset"] == str(seg_data.resolve())
    assert run["preprocess"]["size"] == 24 and run["options"]["optimizer"] == "adam"
    assert [c["name"] for c in run["classes"]] == ["bg", "r", "g"]
    best = max(range(2), key=lambda i: float(rows[i]["val_miou"]))
    assert run["best"]["epoch"] == best + 1
    assert load_checkpoint(out / "checkpoints" / "best.pt").epoch == best + 1


def _evaluate(run: Path, data: Path) -> tuple[float, float]:
    """mIoU and pixel accuracy of a run's last checkpoint on `val`, computed with sklearn."""
    from sklearn.metrics import confusion_matrix

    from cvtool.core.transforms import eval_transform
    from cvtool.segment.dataset import SegmentationDataset

    ckpt = load_checkpoint(run / "checkpoints" / "last.pt")
    ds = SegmentationDataset(data, "val", eval_transform(**ckpt.preprocess.to_dict()))
    preds, labels = [], []
    with torch.no_grad():
        for i in range(len(ds)):
            image, mask = ds[i]
            preds.append(ckpt.model(image[None])[0].argmax(0).numpy().ravel())
            labels.append(mask.numpy().ravel())
    p, t = np.concatenate(preds), np.concatenate(labels)
    keep = t != 255
    cm = confusion_matrix(t[keep], p[keep], labels=[0, 1, 2])
    tp = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - tp
    return float(np.mean(tp[union > 0] / union[union > 0])), float(tp.sum() / keep.sum())


def test_validation_metrics_match_an_independent_evaluation(seg_data: Path, tmp_path: Path):
    result = train(_config(seg_data, tmp_path / "run", epochs=2, batch_size=3))
    miou, accuracy = _evaluate(tmp_path / "run", seg_data)
    assert result.history[-1]["val_miou"] == pytest.approx(miou, abs=1e-12)
    assert result.history[-1]["val_accuracy"] == pytest.approx(accuracy, abs=1e-12)


def test_loss_decreases_and_miou_rises_on_learnable_data(seg_data: Path, tmp_path: Path):
    result = train(
        _config(seg_data, tmp_path / "run", epochs=6, batch_size=2, lr=0.01, scheduler="none")
    )
    first, last = result.history[0], result.history[-1]
    assert last["train_loss"] < first["train_loss"]
    assert result.best_value > first["val_miou"]


class Interrupt(Exception):
    pass


def _stop_after(epoch_to_stop: int):
    def callback(epoch: int, row: dict) -> None:
        if epoch == epoch_to_stop:
            raise Interrupt

    return callback


def test_resume_equals_an_uninterrupted_run(seg_data: Path, tmp_path: Path) -> None:
    options = dict(augment="standard", mixup=0.4, oversample=True, loss="focal", seed=5)
    full = train(_config(seg_data, tmp_path / "full", **options))
    with pytest.raises(Interrupt):
        train(_config(seg_data, tmp_path / "part", **options), callbacks=[_stop_after(2)])
    assert len(_history(tmp_path / "part")) == 2
    resumed = train(_config(seg_data, tmp_path / "part", resume=True, **options))
    drop_time = lambda rows: [{k: v for k, v in r.items() if k != "time_s"} for r in rows]  # noqa: E731
    assert drop_time(resumed.history) == drop_time(full.history)
    a = torch.load(tmp_path / "full/checkpoints/last.pt", weights_only=True)
    b = torch.load(tmp_path / "part/checkpoints/last.pt", weights_only=True)
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    assert a["optimizer"]["state"][0]["exp_avg"].equal(b["optimizer"]["state"][0]["exp_avg"])


def test_resume_rejects_another_model_or_class_set(seg_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    with pytest.raises(Interrupt):
        train(_config(seg_data, out), callbacks=[_stop_after(1)])
    with pytest.raises(CvtoolError, match=r"model options \{'width': 4.*\(now \{'width': 8"):
        train(_config(seg_data, out, resume=True, model_kwargs={"width": 8}))
    with pytest.raises(CvtoolError, match=r"model 'unet' .now 'segnet'"):
        train(_config(seg_data, out, resume=True, model="segnet", model_kwargs={}))
    manifest = json.loads((seg_data / "dataset.json").read_text())
    manifest["classes"][2]["name"] = "blue"
    (seg_data / "dataset.json").write_text(json.dumps(manifest))
    with pytest.raises(
        CvtoolError, match=r"classes \['bg', 'r', 'g'\] \(now \['bg', 'r', 'blue'\]"
    ):
        train(_config(seg_data, out, resume=True))


def test_resume_errors(seg_data: Path, tmp_path: Path) -> None:
    with pytest.raises(CvtoolError, match=r"no checkpoint .* to continue from"):
        train(_config(seg_data, tmp_path / "none", resume=True))
    train(_config(seg_data, tmp_path / "done", epochs=1))
    with pytest.raises(CvtoolError, match="already finished epoch 1 of 1 epochs"):
        train(_config(seg_data, tmp_path / "done", epochs=1, resume=True))
    again = train(_config(seg_data, tmp_path / "done", epochs=1, overwrite=True, seed=1))
    assert len(_history(tmp_path / "done")) == 1 and again.history[0]["epoch"] == 1


def test_cli_bad_input_exits_1(cli, seg_data: Path, cls_data: Path, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "notes.txt").write_text("keep me")
    result = cli("train", "convnet", "--data", seg_data, "--out", tmp_path / "b")
    assert result.exit_code == 1 and "is a classification model" in result.stderr
    cases = [
        (["unet", "--data", raw, "--out", tmp_path / "a"], "no dataset.json"),
        (["unet", "--data", seg_data, "--out", raw], "already exists and is not empty"),
        (["unet", "--data", seg_data, "--out", raw, "--overwrite"], "not a cvtool run dir"),
        (
            ["unet", "--data", seg_data, "--out", tmp_path / "d", "--class-weights", "1,2"],
            "--class-weights needs 'auto' or 3",
        ),
        (["unet", "--data", seg_data, "--out", tmp_path / "e", "--loss", "bce"], "binary"),
    ]
    for args, message in cases:
        result = cli("train", *args, *TINY[:2])
        assert result.exit_code == 1, (args, result.stderr)
        assert message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    usage = [  # values that cannot work are usage errors, named by their option
        (["--size", "x"], "--size"),
        (["--size", "24", "--crop", "32"], "larger than the resized image"),
    ]
    for args, message in usage:
        result = cli("train", "unet", "--data", seg_data, "--out", tmp_path / "u", *args)
        assert result.exit_code == 2 and message in result.stderr, result.stderr
    result = cli("train", "unet", "--data", seg_data, "--out", seg_data.parent, *TINY[:2])
    assert result.exit_code == 2 and "contains the input --data" in result.stderr
    assert not (tmp_path / "u").exists()
    result = cli("train", "unet")
    assert result.exit_code == 2 and "--data" in result.stderr  # no dataset given


def test_cli_empty_split_and_bad_mask(cli, seg_data: Path, tmp_path: Path) -> None:
    from PIL import Image

    name = (seg_data / "splits" / "val.txt").read_text().split()[0]
    mask_path = seg_data / "masks" / f"{Path(name).stem}.png"
    mask = np.asarray(Image.open(mask_path)).copy()
    mask[0, 5] = 9
    Image.fromarray(mask).save(mask_path)
    result = cli("train", "unet", "--data", seg_data, "--out", tmp_path / "r", *TINY)
    assert result.exit_code == 1 and "contains class id 9" in result.stderr
    (seg_data / "splits" / "train.txt").write_text("")
    result = cli("train", "unet", "--data", seg_data, "--out", tmp_path / "r", *TINY)
    assert result.exit_code == 1 and "split 'train'" in result.stderr and "empty" in result.stderr


def test_classifier_run_and_checkpoint(cli, cls_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "cls_run"
    args = ["--data", cls_data, "--out", out, "--epochs", "2", "--size", "32x32", "--json"]
    result = cli("train", "convnet", *args, "--augment", "standard", "--workers", "0")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["path"] == str(out) and summary["best_metric"] == "val_accuracy"
    rows = _history(out)
    assert "val_accuracy" in rows[0] and "val_miou" not in rows[0]
    ckpt = load_checkpoint(out)
    assert ckpt.task == "classification" and ckpt.model_name == "convnet"
    assert ckpt.size == [32, 32] or ckpt.size == (32, 32)
    with torch.no_grad():
        assert ckpt.model(torch.zeros(2, 3, 32, 32)).shape == (2, 3)
    run = json.loads((out / "run.json").read_text())
    assert run["options"]["label_smoothing"] == 0.1


def test_checkpoint_rebuilds_the_same_model(seg_data: Path, tmp_path: Path) -> None:
    train(
        _config(
            seg_data, tmp_path / "run", epochs=1, model_kwargs={"width": 4, "upsample": "bilinear"}
        )
    )
    path = resolve_checkpoint(tmp_path / "run")
    assert path.name == "best.pt"
    ckpt = load_checkpoint(path)
    raw = torch.load(path, weights_only=True)
    for key, value in ckpt.model.state_dict().items():
        assert torch.equal(value, raw["model"][key])
    assert not ckpt.model.training and ckpt.run_dir == tmp_path / "run"
    assert ckpt.model_kwargs == {"width": 4, "upsample": "bilinear"}
    assert ckpt.ignore_index == 255 and [c.name for c in ckpt.classes] == ["bg", "r", "g"]
    assert ckpt.preprocess.crop == 24 and ckpt.dataset == seg_data.resolve()
    (tmp_path / "run" / "checkpoints" / "best.pt").unlink()
    assert resolve_checkpoint(tmp_path / "run").name == "last.pt"


def test_checkpoint_errors(tmp_path: Path) -> None:
    with pytest.raises(CvtoolError, match="no checkpoint in"):
        resolve_checkpoint(tmp_path)
    with pytest.raises(CvtoolError, match="does not exist"):
        resolve_checkpoint(tmp_path / "nope")
    (tmp_path / "bad.pt").write_bytes(b"not a zip file at all")
    with pytest.raises(CvtoolError, match=r"bad\.pt is corrupt"):
        load_checkpoint(tmp_path / "bad.pt")
    torch.save({"state_dict": {}}, tmp_path / "foreign.pt")
    with pytest.raises(CvtoolError, match=r"foreign\.pt is not a cvtool checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")


@pytest.mark.slow
def test_ddp_gloo_two_processes(seg_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
        "--master_port", str(29500 + os.getpid() % 1000),
        "-m", "cvtool", "train", "unet", "--data", str(seg_data), "--out", str(out),
        "--epochs", "2", "--workers", "0", *TINY,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines() == [str(out)]  # only rank 0 prints
    run = json.loads((out / "run.json").read_text())
    assert run["world_size"] == 2 and run["epochs_completed"] == 2
    rows = _history(out)
    assert len(rows) == 2
    # validation metrics reduced over both ranks = one evaluation of the whole split
    miou, accuracy = _evaluate(out, seg_data)
    assert float(rows[-1]["val_miou"]) == pytest.approx(miou, rel=1e-9)
    assert float(rows[-1]["val_accuracy"]) == pytest.approx(accuracy, rel=1e-9)
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []
    shutil.rmtree(out)


def test_resnet18_with_local_weights_file(cli, cls_data: Path, tmp_path: Path) -> None:
    from torchvision.models import resnet18

    torch.save(resnet18(weights=None).state_dict(), tmp_path / "r18.pth")
    out = tmp_path / "r18"
    args = ["--data", cls_data, "--out", out, "--epochs", "1", "--size", "32x32"]
    result = cli("train", "resnet18", *args, "--weights", tmp_path / "r18.pth", "--workers", "0")
    assert result.exit_code == 0, result.stderr
    ckpt = load_checkpoint(out)
    assert ckpt.model_kwargs["weights"] == str(tmp_path / "r18.pth")
    assert ckpt.model.fc.out_features == 3


def test_wandb_logging(monkeypatch, seg_data: Path, tmp_path: Path) -> None:
    import types

    logged: list[tuple[dict, int]] = []

    class FakeRun:
        def log(self, row: dict, step: int) -> None:
            logged.append((row, step))

        def finish(self) -> None:
            logged.append(({"finished": True}, -1))

    fake = types.SimpleNamespace(init=lambda **kw: FakeRun())
    monkeypatch.setitem(sys.modules, "wandb", fake)
    train(_config(seg_data, tmp_path / "run", epochs=2, wandb="proj"))
    assert [step for _, step in logged] == [1, 2, -1]
    assert logged[1][0]["val_miou"] == float(_history(tmp_path / "run")[1]["val_miou"])
    monkeypatch.setitem(sys.modules, "wandb", None)
    with pytest.raises(CvtoolError, match="wandb logging needs the wandb package"):
        train(_config(seg_data, tmp_path / "run2", epochs=1, wandb="proj"))
    assert not (tmp_path / "run2").exists()


def test_auto_class_weights_from_training_masks(seg_data: Path, tmp_path: Path) -> None:
    from PIL import Image

    from cvtool.engine.class_weights import median_frequency_weights

    train(_config(seg_data, tmp_path / "run", epochs=1, class_weights="auto", loss="focal"))
    pixels, image_pixels = np.zeros(3), np.zeros(3)
    for name in (seg_data / "splits" / "train.txt").read_text().split():
        mask = np.asarray(Image.open(seg_data / "masks" / f"{Path(name).stem}.png"))
        counts = np.bincount(mask[mask != 255], minlength=3)
        pixels += counts
        image_pixels += (counts > 0) * (mask != 255).sum()
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    freq = pixels / image_pixels
    assert run["class_weights"] == pytest.approx(list(np.median(freq) / freq))
    assert run["class_weights"] == pytest.approx(median_frequency_weights(pixels, image_pixels))


def test_size_and_crop_defaults() -> None:
    seg = TrainConfig(model="unet", data=Path("d"), out=Path("o")).resolved()
    cls = TrainConfig(model="convnet", data=Path("d"), out=Path("o")).resolved()
    assert (seg.size, seg.crop) == (256, 256)
    assert (cls.size, cls.crop) == ((224, 224), None)
    chosen = TrainConfig(model="unet", data=Path("d"), out=Path("o"), size=(96, 128))
    assert chosen.resolved().crop is None
    none = TrainConfig(model="unet", data=Path("d"), out=Path("o"), size=None)
    assert none.resolved().preprocess.output_size is None
