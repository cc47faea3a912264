"""`cvtool evaluate RUN`: a saved U-Net evaluated on a split, checked against oracles."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.metrics import average_precision_score, confusion_matrix
from torchmetrics.classification import MulticlassCalibrationError

from cvtool.core.artifacts import ClassInfo
from cvtool.core.images import read_image
from cvtool.engine.checkpoint import save_checkpoint
from cvtool.engine.manifest import RunManifest
from cvtool.engine.registry import build_model
from tests.segment.conftest import CLASSES, write_dataset

SHAPE = (20, 28)
NAMES = [f"img{i}.png" for i in range(5)]
PREPROCESS = {"size": [16, 24], "crop": None, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}


def save_run(run_dir, data_dir, classes=CLASSES, seed=0):
    torch.manual_seed(seed)
    model = build_model("unet", len(classes), width=4)
    with torch.no_grad():  # confident, spread-out scores, like a trained model's
        model.head.weight *= 30
    run = RunManifest(
        model="unet",
        model_kwargs={"width": 4},
        task="segmentation",
        dataset=str(data_dir),
        classes=[{"id": c.id, "name": c.name, "color": list(c.color)} for c in classes],
        ignore_index=255,
        preprocess=PREPROCESS,
        epochs_completed=1,
    )
    save_checkpoint(run_dir / "checkpoints" / "best.pt", run, {"model": model.state_dict()})
    return model.eval()


def random_masks(seed: int = 5) -> dict[str, np.ndarray]:
    """Labels of the three classes for every name, 10 % ignored."""
    rng = np.random.default_rng(seed)
    masks = {}
    for name in NAMES:
        mask = rng.integers(0, 3, SHAPE).astype(np.uint8)
        mask[rng.random(SHAPE) < 0.1] = 255
        masks[name] = mask
    return masks


@pytest.fixture
def seg_data(tmp_path):
    masks = random_masks()
    return write_dataset(tmp_path / "data", masks), masks


def _oracle_logits(model, data_dir, name):
    """The model run by hand: resize, normalise, forward, upsample to the label size."""
    from torchvision.transforms.v2 import functional as F

    image = F.resize(read_image(data_dir / "images" / name), [16, 24], antialias=True)
    image = (image.float() / 255 - 0.5) / 0.25
    with torch.no_grad():
        logits = model(image[None])
    return torch.nn.functional.interpolate(logits, SHAPE, mode="bilinear")


def _oracle_probs(model, data_dir, masks):
    """The oracle's softmax scores of the labelled pixels, labels, and predicted masks."""
    probs, labels, full = [], [], {}
    for name, mask in masks.items():
        logits = _oracle_logits(model, data_dir, name)
        full[name] = logits[0].argmax(0).numpy()
        p = logits.softmax(1)[0].permute(1, 2, 0).reshape(-1, 3)
        keep = torch.from_numpy(mask.ravel() != 255)
        probs.append(p[keep])
        labels.append(torch.from_numpy(mask.ravel()[mask.ravel() != 255]).long())
    return torch.cat(probs), torch.cat(labels), full


def test_checkpoint_evaluation_matches_oracles(cli, tmp_path, seg_data):
    data_dir, masks = seg_data
    model = save_run(tmp_path / "run", data_dir)
    result = cli("evaluate", tmp_path / "run", "--workers", 2, "--batch-size", 2, "--device",
                 "cpu", "--save-masks")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "run" / "eval-test"
    assert result.stdout.strip().splitlines()[-1] == str(out)
    metrics = json.loads((out / "metrics.json").read_text())
    probs, labels, full = _oracle_probs(model, data_dir, masks)
    pred = probs.argmax(1)
    cm = np.loadtxt(out / "confusion.csv", delimiter=",", skiprows=1, usecols=(1, 2, 3))
    np.testing.assert_array_equal(cm, confusion_matrix(labels, pred, labels=[0, 1, 2]))
    for c in range(3):
        expected = average_precision_score(labels == c, probs[:, c])
        assert metrics["classes"][c]["ap"] == pytest.approx(expected, abs=5e-4)
    calibration = json.loads((out / "calibration.json").read_text())
    ece = MulticlassCalibrationError(3, n_bins=15)(probs, labels).item()
    assert calibration["available"] and calibration["ece"] == pytest.approx(ece, abs=1e-5)
    assert metrics["headline"]["ece"] == pytest.approx(ece, abs=1e-5)
    assert metrics["source"]["model"] == "unet" and metrics["source"]["epoch"] == 1
    assert (out / "plots" / "reliability.png").stat().st_size > 1000
    with Image.open(out / "masks" / "img3.png") as saved:
        np.testing.assert_array_equal(np.asarray(saved), full["img3.png"])
    assert (out / "masks_colored" / "img3.png").is_file()
    # the saved masks chain into --predictions and score the same
    again = cli("evaluate", "--predictions", out / "masks", "--data", data_dir, "--out",
                tmp_path / "again", "--workers", 1, "--max-failures", 0)  # fmt: skip
    assert again.exit_code == 0, again.stderr
    assert (tmp_path / "again" / "confusion.csv").read_text() == (out / "confusion.csv").read_text()


def test_nonfinite_outputs_are_counted_and_reported(cli, tmp_path, seg_data):
    data_dir, masks = seg_data
    model = save_run(tmp_path / "run", data_dir)
    best = tmp_path / "run" / "checkpoints" / "best.pt"
    raw = torch.load(best, weights_only=True)
    with torch.no_grad():  # finite weights whose sums overflow float32 at some pixels
        for state in (raw["model"], model.state_dict()):
            state["head.weight"][0], state["head.bias"][0] = 3e38, 3.4e38
    torch.save(raw, best)
    bad = [(~torch.isfinite(_oracle_logits(model, data_dir, n)).all(1)).sum() for n in masks]
    pixels, images = int(sum(bad)), sum(int(b > 0) for b in bad)
    assert pixels > 0 and images > 0
    result = cli("evaluate", tmp_path / "run", "--workers", 1, "--device", "cpu")
    assert result.exit_code == 0, result.stderr
    expected = f"outputs hold NaN or Inf for {pixels} pixel(s) in {images} of 5 image(s)"
    assert f"warning: the model's {expected}" in result.stderr
    metrics = json.loads((tmp_path / "run" / "eval-test" / "metrics.json").read_text())
    assert metrics["nonfinite_outputs"] == {"images": images, "pixels": pixels}
    assert len(metrics["warnings"]) == 1 and expected in metrics["warnings"][0]
    assert metrics["headline"]["miou"] is not None


def test_checkpoint_bad_inputs(cli, tmp_path, seg_data):
    data_dir, _ = seg_data
    other = [*CLASSES[:2], ClassInfo(2, "sky", (0, 0, 255))]
    save_run(tmp_path / "run", data_dir, classes=other)
    result = cli("evaluate", tmp_path / "run", "--workers", 1)
    assert result.exit_code == 1
    assert "trained on 3 classes (road, car, sky)" in result.stderr
    assert "defines 3 (road, car, tree)" in result.stderr

    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    result = cli("evaluate", bad, "--data", data_dir)
    assert result.exit_code == 1 and "bad.pt is corrupt or not a PyTorch file" in result.stderr

    result = cli("evaluate", tmp_path / "no_run", "--data", data_dir)
    assert result.exit_code == 1 and "no_run does not exist" in result.stderr

    save_run(tmp_path / "moved", tmp_path / "gone")
    result = cli("evaluate", tmp_path / "moved")
    assert (
        result.exit_code == 1 and "no longer exists" in result.stderr and "--data" in result.stderr
    )

    result = cli("evaluate", tmp_path / "moved", "--data", data_dir, "--device", "cuda:0")
    if not torch.cuda.is_available():
        assert result.exit_code == 2 and "--device 'cuda:0' is not available here" in result.stderr

    result = cli("evaluate", tmp_path / "moved", "--data", data_dir, "--shard", "3")
    assert result.exit_code == 2 and "--shard expects INDEX/COUNT" in result.stderr


@pytest.mark.slow
def test_one_epoch_run_matches_the_trainers_validation(cli, tmp_path):
    from cvtool.engine.config import TrainConfig
    from cvtool.engine.trainer import train

    rng = np.random.default_rng(9)
    masks = {f"s{i}.png": rng.integers(0, 3, (24, 32)).astype(np.uint8) for i in range(8)}
    names = list(masks)
    splits = {"train": names[:4], "val": names[4:6], "test": names[6:]}
    data_dir = write_dataset(tmp_path / "data", masks, splits)
    config = TrainConfig(model="unet", data=data_dir, out=tmp_path / "run",
                         model_kwargs={"width": 4}, epochs=1, batch_size=2, size=None,
                         crop=None, workers=0, channels_last=False, device="cpu")  # fmt: skip
    result = train(config)
    out = tmp_path / "eval-val"
    evaluated = cli("evaluate", result.run_dir, "--split", "val", "--out", out, "--workers", 1,
                    "--max-failures", 0, "--json")  # fmt: skip
    assert evaluated.exit_code == 0, evaluated.stderr
    summary = json.loads(evaluated.stdout)
    row = result.history[-1]
    assert summary["miou"] == pytest.approx(row["val_miou"], abs=1e-9)
    assert summary["pixel_accuracy"] == pytest.approx(row["val_accuracy"], abs=1e-9)
    assert summary["images"] == 2 and 0 <= summary["ece"] <= 1


def test_label_mask_of_another_size_than_its_image(cli, tmp_path, seg_data):
    data_dir, _ = seg_data
    save_run(tmp_path / "run", data_dir)
    Image.fromarray(np.zeros((10, 10), np.uint8), mode="L").save(data_dir / "masks" / "img2.png")
    result = cli("evaluate", tmp_path / "run", "--workers", 1, "--device", "cpu")
    assert result.exit_code == 1
    assert "img2.png is 10x10 but its image" in result.stderr and "is 28x20" in result.stderr
    assert not (tmp_path / "run" / "eval-test").exists()
