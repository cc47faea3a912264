"""The training loop: one engine for segmentation and classification, CPU, CUDA and DDP.

>>> result = train(TrainConfig(model="unet", data=Path("data/camvid"), out=Path("runs/unet"),
...                            model_kwargs={"width": 16}, epochs=5, size=(96, 128)))
>>> result.run_dir, result.best_value

Each epoch trains on the `train` split, validates on `val`, then rank 0 writes `last.pt` (and
`best.pt` when the validation score improved: mIoU for segmentation, accuracy for
classification), `history.csv`, `plots/*.png` and `run.json`. Randomness (shuffling,
augmentation, mixup, dropout) is re-seeded from `(seed, epoch)` at the start of every epoch, so
`resume=True` continues an interrupted run exactly as if it had never stopped (on CPU).
"""

from __future__ import annotations

import platform
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cvtool import __version__
from cvtool.core.artifacts import (
    DatasetManifest,
    atomic_path,
    atomic_write_json,
    invocation,
    utc_now,
)
from cvtool.core.confusion import ConfusionMatrix
from cvtool.core.console import console, make_progress
from cvtool.core.errors import CvtoolError
from cvtool.core.transforms import eval_transform, train_transform
from cvtool.engine import distributed
from cvtool.engine.checkpoint import read_checkpoint, save_checkpoint
from cvtool.engine.config import TrainConfig
from cvtool.engine.curves import plot_history
from cvtool.engine.data import label_stats, open_dataset
from cvtool.engine.loggers import CsvLogger, WandbLogger, import_wandb
from cvtool.engine.losses import balanced_weights, build_loss, median_frequency_weights
from cvtool.engine.mixup import mixed_loss, mixup
from cvtool.engine.registry import build_model, get_spec, rebuild_kwargs
from cvtool.engine.sampling import EpochSampler, ShardSampler, oversample_weights

EpochCallback = Callable[[int, dict[str, Any]], None]


@dataclass
class TrainResult:
    run_dir: Path
    history: list[dict[str, Any]]
    best_epoch: int
    best_metric: str
    best_value: float
    main: bool = True  # False on the other ranks of a DDP run, which write nothing

    def summary(self) -> dict[str, Any]:
        last = self.history[-1] if self.history else {}
        return {
            "run_dir": str(self.run_dir),
            "epochs": len(self.history),
            "best_epoch": self.best_epoch,
            "best_metric": self.best_metric,
            "best_value": self.best_value,
            "last": last,
        }


def train(config: TrainConfig, callbacks: Sequence[EpochCallback] = ()) -> TrainResult:
    """Train `config.model` on `config.data` and write the run dir `config.out`.

    Under `torchrun` every process calls this; they join one process group, and only rank 0
    writes. `callbacks(epoch, row)` run after each epoch's artifacts are written.
    """
    ctx = distributed.setup(config.device)
    try:
        return Trainer(config, ctx).fit(callbacks)
    finally:
        distributed.teardown()


def _class_weights(option: str | None, stats: Any, segmentation: bool, k: int) -> Any:
    if option is None:
        return None
    if option == "auto":
        if segmentation:
            return median_frequency_weights(stats.pixels, stats.image_pixels)
        return balanced_weights(stats.pixels)
    try:
        weights = [float(v) for v in option.split(",")]
    except ValueError:
        raise CvtoolError(
            f"--class-weights expects 'auto' or {k} numbers, got {option!r}"
        ) from None
    if len(weights) != k or any(w < 0 for w in weights):
        raise CvtoolError(f"--class-weights needs {k} non-negative numbers, got {option!r}")
    return weights


class Trainer:
    def __init__(self, config: TrainConfig, ctx: distributed.DistContext) -> None:
        try:
            self.spec = get_spec(config.model)
        except KeyError as e:
            raise CvtoolError(e.args[0]) from None
        self.cfg = cfg = config.resolved(self.spec)
        self.ctx = ctx
        self.manifest = DatasetManifest.load(cfg.data)
        if self.manifest.task != self.spec.task:
            raise CvtoolError(
                f"model {cfg.model!r} is a {self.spec.task} model but {cfg.data} is a "
                f"{self.manifest.task} dataset"
            )
        self.segmentation = self.spec.task == "segmentation"
        self.score_name = "val_miou" if self.segmentation else "val_accuracy"
        self.device = ctx.device
        self.cuda = self.device.type == "cuda"
        self.resume_state = self._prepare_run_dir()
        if cfg.wandb and ctx.is_main:
            import_wandb()  # fail before any work when the extra is missing

        pre = cfg.preprocess
        self.train_ds = open_dataset(cfg.data, "train", train_transform(pre, cfg.augment))
        self.val_ds = open_dataset(cfg.data, "val", eval_transform(**pre.to_dict()))
        workers = 1 if ctx.distributed else None
        stats = label_stats(self.train_ds, workers)
        label_stats(self.val_ds, workers)  # validates every validation mask up front
        k = self.manifest.num_classes
        self.class_weights = _class_weights(cfg.class_weights, stats, self.segmentation, k)
        self.criterion = build_loss(
            cfg.loss,
            k,
            self.manifest.ignore_index,
            self.class_weights,
            cfg.focal_gamma,
            cfg.label_smoothing or 0.0,
        ).to(self.device)

        torch.manual_seed(cfg.seed)
        self.model = self._build_model()
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = self._optimizer(params)
        self.train_sampler = EpochSampler(
            len(self.train_ds),
            cfg.seed,
            ctx.rank,
            ctx.world_size,
            oversample_weights(stats.present) if cfg.oversample else None,
        )
        self.loader_generator = torch.Generator()
        self.train_loader = self._loader(self.train_ds, self.train_sampler, self.loader_generator)
        val_sampler = ShardSampler(len(self.val_ds), ctx.rank, ctx.world_size)
        self.val_loader = self._loader(self.val_ds, val_sampler, None)
        self.scheduler = self._scheduler(cfg.epochs * len(self.train_loader))
        self.amp = cfg.amp and self.cuda
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp)
        self.history: list[dict[str, Any]] = []
        self.best_epoch, self.best_value, self.start_epoch = 0, float("-inf"), 0
        if self.resume_state is not None:
            self._restore(self.resume_state)
        self.net: torch.nn.Module = self.model
        if ctx.distributed:
            ids = [self.device.index] if self.cuda else None
            self.net = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)

    # ------------------------------------------------------------------ set-up
    @property
    def model_kwargs(self) -> dict[str, Any]:
        return self.cfg.to_dict()["model_kwargs"]

    def _prepare_run_dir(self) -> dict[str, Any] | None:
        out, last = self.cfg.out, self.cfg.out / "checkpoints" / "last.pt"
        if self.cfg.resume:
            if not last.is_file():
                raise CvtoolError(
                    f"--resume: no checkpoint {last} to continue from",
                    "start a new run without --resume",
                )
            raw = read_checkpoint(last)
            self._check_compatible(raw, last)
            return raw
        data = self.cfg.data.resolve()
        if out.resolve() == data or out.resolve() in data.parents:
            raise CvtoolError(f"--out {out} would contain the dataset {self.cfg.data}")
        if out.is_dir() and any(out.iterdir()) and not self.cfg.overwrite:
            raise CvtoolError(
                f"output directory {out} already exists and is not empty",
                "pass --resume to continue its training, --overwrite to replace it, "
                "or choose another --out",
            )
        if out.exists() and not out.is_dir():
            raise CvtoolError(f"output {out} exists and is not a directory")
        if out.is_dir() and any(out.iterdir()) and not (out / "run.json").is_file():
            raise CvtoolError(
                f"--overwrite: {out} is not a cvtool run dir (no run.json); not deleting it",
                "choose another --out",
            )
        return None

    def _create_run_dir(self) -> None:
        """Rank 0 makes (or, with --overwrite, replaces) the run dir once set-up succeeded."""
        distributed.barrier()  # every rank has checked the run dir before rank 0 changes it
        out = self.cfg.out
        if self.ctx.is_main and self.resume_state is None:
            if out.is_dir() and self.cfg.overwrite:
                shutil.rmtree(out)
            (out / "checkpoints").mkdir(parents=True, exist_ok=True)
            (out / "plots").mkdir(exist_ok=True)

    def _check_compatible(self, raw: dict[str, Any], path: Path) -> None:
        ours = self._classes_json()
        problems = []
        if raw.get("model_name") != self.cfg.model:
            problems.append(f"model {raw.get('model_name')!r} (now {self.cfg.model!r})")
        elif rebuild_kwargs(raw.get("model_kwargs", {})) != rebuild_kwargs(self.model_kwargs):
            problems.append(f"model options {raw.get('model_kwargs')} (now {self.model_kwargs})")
        if raw.get("classes") != ours:
            names = [c["name"] for c in raw.get("classes", [])]
            problems.append(f"classes {names} (now {self.manifest.class_names})")
        if problems:
            raise CvtoolError(
                f"--resume: {path} was trained with " + "; ".join(problems),
                "resume with the same model, model options and dataset, or start a new --out",
            )
        if int(raw["epoch"]) >= self.cfg.epochs:
            raise CvtoolError(
                f"--resume: {path} already finished epoch {raw['epoch']} of --epochs "
                f"{self.cfg.epochs}",
                "raise --epochs to train further",
            )

    def _classes_json(self) -> list[dict[str, Any]]:
        return [{"id": c.id, "name": c.name, "color": list(c.color)} for c in self.manifest.classes]

    def _build_model(self) -> torch.nn.Module:
        model = build_model(self.cfg.model, self.manifest.num_classes, **self.cfg.model_kwargs)
        if any(isinstance(m, torch.nn.modules.lazy.LazyModuleMixin) for m in model.modules()):
            model.eval()
            with torch.no_grad():  # materialise lazy layers before the optimizer sees them
                model(self.val_ds[0][0].unsqueeze(0))
        model.to(self.device)
        if self.cuda and self.cfg.channels_last:
            model.to(memory_format=torch.channels_last)
        if self.cuda and self.ctx.distributed:
            model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        return model

    def _optimizer(self, params: list[torch.nn.Parameter]) -> torch.optim.Optimizer:
        cfg = self.cfg
        if not params:
            raise CvtoolError(f"model {cfg.model!r} has no trainable parameters")
        if cfg.optimizer == "sgd":
            return torch.optim.SGD(
                params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
            )
        cls = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.AdamW
        return cls(params, lr=cfg.lr, weight_decay=cfg.weight_decay)

    def _scheduler(self, total_steps: int) -> Any:
        """Per-iteration learning-rate schedule over the whole run."""
        from torch.optim import lr_scheduler

        name, total = self.cfg.scheduler, max(1, total_steps)
        if name == "onecycle":
            return lr_scheduler.OneCycleLR(self.optimizer, max_lr=self.cfg.lr, total_steps=total)
        if name == "cosine":
            return lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=total)
        if name == "poly":
            return lr_scheduler.LambdaLR(
                self.optimizer, lambda step: max(0.0, 1 - step / total) ** 0.9
            )
        return None

    def _loader(self, dataset: Any, sampler: Any, generator: Any) -> torch.utils.data.DataLoader:
        return torch.utils.data.DataLoader(
            dataset,
            batch_size=self.cfg.batch_size,
            sampler=sampler,
            num_workers=self.cfg.workers,
            pin_memory=self.cuda,
            generator=generator,
        )

    def _restore(self, raw: dict[str, Any]) -> None:
        self.model.load_state_dict(raw["model"])
        self.optimizer.load_state_dict(raw["optimizer"])
        if self.scheduler is not None and raw.get("scheduler") is not None:
            self.scheduler.load_state_dict(raw["scheduler"])
        if raw.get("scaler"):
            self.scaler.load_state_dict(raw["scaler"])
        self.history = list(raw["history"])
        self.start_epoch = int(raw["epoch"])
        self.best_epoch, self.best_value = int(raw["best"]["epoch"]), float(raw["best"]["value"])

    # ------------------------------------------------------------------ loop
    def fit(self, callbacks: Sequence[EpochCallback] = ()) -> TrainResult:
        cfg, main = self.cfg, self.ctx.is_main
        self._create_run_dir()
        loggers: list[Any] = []
        if main:
            loggers.append(CsvLogger(cfg.out / "history.csv", self.history))
            if cfg.wandb:
                loggers.append(WandbLogger(cfg.wandb, cfg.out, cfg.to_dict()))
            self._write_run_json()
            console.print(
                f"training [bold]{cfg.model}[/] on {len(self.train_ds)} {self.spec.task} images "
                f"({self.manifest.num_classes} classes), validating on {len(self.val_ds)}, "
                f"device {self.device}, {self.ctx.world_size} process(es)"
            )
        try:
            for epoch in range(self.start_epoch, cfg.epochs):
                row = self._epoch(epoch)
                if main:
                    self._write_epoch(epoch, row, loggers)
                for callback in callbacks:
                    callback(epoch, row)
        finally:
            for logger in loggers:
                logger.close()
        return TrainResult(
            cfg.out, self.history, self.best_epoch, self.score_name, self.best_value, main
        )

    def _seed_epoch(self, epoch: int) -> np.random.Generator:
        seed = self.cfg.seed * 100_003 + epoch
        torch.manual_seed(seed)
        self.loader_generator.manual_seed(seed)
        self.train_sampler.set_epoch(epoch)
        return np.random.default_rng(seed)

    def _epoch(self, epoch: int) -> dict[str, Any]:
        start = time.perf_counter()
        rng = self._seed_epoch(epoch)
        lr = self.optimizer.param_groups[0]["lr"]
        train_loss, train_cm = self._run(self.train_loader, epoch, rng)
        with torch.no_grad():
            val_loss, val_cm = self._run(self.val_loader, epoch, None)
        row: dict[str, Any] = {"epoch": epoch + 1, "lr": lr}
        for split, loss, cm in (("train", train_loss, train_cm), ("val", val_loss, val_cm)):
            scores = cm.all_reduce().compute()
            row[f"{split}_loss"] = loss
            row[f"{split}_accuracy"] = scores.pixel_accuracy
            if self.segmentation:
                row[f"{split}_miou"] = scores.miou
        row["time_s"] = round(time.perf_counter() - start, 3)
        if not np.isfinite(train_loss):
            raise CvtoolError(
                f"training loss became {train_loss} in epoch {epoch + 1}",
                "lower --lr, or check the data (e.g. --class-weights with zeros)",
            )
        return row

    def _run(self, loader: Any, epoch: int, rng: np.random.Generator | None) -> tuple[float, Any]:
        """One pass: training when `rng` is given, else evaluation. Returns the mean loss over
        images (all ranks) and the confusion matrix of the predictions."""
        training = rng is not None
        self.net.train(training)
        cm = ConfusionMatrix(self.manifest.num_classes, self.manifest.ignore_index)
        loss_sum, seen = torch.zeros((), device=self.device), 0
        label = f"epoch {epoch + 1}/{self.cfg.epochs} " + ("train" if training else "val")
        with make_progress(transient=not training) as progress:
            task = progress.add_task(label, total=len(loader), status="", visible=self.ctx.is_main)
            for step, (images, targets) in enumerate(loader, start=1):
                images = images.to(self.device, non_blocking=True)
                targets = targets.to(self.device, non_blocking=True)
                if self.cuda and self.cfg.channels_last:
                    images = images.contiguous(memory_format=torch.channels_last)
                mixed = None
                if training and self.cfg.mixup > 0:
                    mixed = mixup(images, targets, self.cfg.mixup, rng)
                with torch.autocast(self.device.type, enabled=self.amp):
                    logits = self.net(mixed.inputs if mixed else images)
                    loss = (
                        mixed_loss(self.criterion, logits, mixed)
                        if mixed
                        else self.criterion(logits, targets)
                    )
                if training:
                    self._step(loss)
                loss_sum += loss.detach() * images.shape[0]
                seen += images.shape[0]
                cm.update(logits.detach().argmax(1), mixed.dominant_targets if mixed else targets)
                progress.advance(task)
                if step % 10 == 0 or step == len(loader):
                    progress.update(task, status=f"loss {loss_sum.item() / seen:.4f}")
        total, count = distributed.all_reduce_sum([loss_sum.item(), float(seen)], self.device)
        return total / max(count, 1.0), cm

    def _step(self, loss: torch.Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.scheduler is not None:
            self.scheduler.step()

    # ------------------------------------------------------------------ artifacts (rank 0)
    def _write_epoch(self, epoch: int, row: dict[str, Any], loggers: list[Any]) -> None:
        score = float(row[self.score_name])
        improved = bool(np.isfinite(score) and score > self.best_value)
        if improved:
            self.best_epoch, self.best_value = epoch + 1, score
        self.history.append(row)
        for logger in loggers:
            logger.log(row)
        ckpt_dir = self.cfg.out / "checkpoints"
        save_checkpoint(ckpt_dir / "last.pt", self._checkpoint_payload(epoch + 1))
        if improved:
            with atomic_path(ckpt_dir / "best.pt") as tmp:
                shutil.copyfile(ckpt_dir / "last.pt", tmp)
        plot_history(self.history, self.cfg.out / "plots" / "curves.png")
        self._write_run_json()
        parts = [f"{k} {v:.4f}" for k, v in row.items() if k.startswith(("train_", "val_"))]
        star = " [green](best)[/]" if improved else ""
        console.print(f"epoch {epoch + 1}/{self.cfg.epochs}: " + ", ".join(parts) + star)

    def _checkpoint_payload(self, epoch: int) -> dict[str, Any]:
        return {
            "model_name": self.cfg.model,
            "model_kwargs": self.model_kwargs,
            "task": self.spec.task,
            "classes": self._classes_json(),
            "ignore_index": self.manifest.ignore_index,
            "preprocess": self.cfg.preprocess.to_dict(),
            "dataset": str(self.cfg.data.resolve()),
            "epoch": epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict() if self.amp else None,
            "history": self.history,
            "best": {"epoch": self.best_epoch, "metric": self.score_name, "value": self.best_value},
            "config": self.cfg.to_dict(),
        }

    def _write_run_json(self) -> None:
        import torchvision

        atomic_write_json(
            self.cfg.out / "run.json",
            {
                "schema_version": 1,
                "model": self.cfg.model,
                "model_kwargs": self.model_kwargs,
                "task": self.spec.task,
                "dataset": str(self.cfg.data.resolve()),
                "classes": self._classes_json(),
                "ignore_index": self.manifest.ignore_index,
                "preprocess": self.cfg.preprocess.to_dict(),
                "class_weights": self.class_weights,
                "options": self.cfg.to_dict(),
                "epochs_completed": len(self.history),
                "best": {
                    "epoch": self.best_epoch,
                    "metric": self.score_name,
                    "value": self.best_value if self.history else None,
                },
                "device": str(self.device),
                "world_size": self.ctx.world_size,
                "command": invocation(),
                "updated": utc_now(),
                "versions": {
                    "cvtool": __version__,
                    "torch": torch.__version__,
                    "torchvision": torchvision.__version__,
                    "python": platform.python_version(),
                },
            },
        )
