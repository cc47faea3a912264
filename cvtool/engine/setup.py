"""Setting a run up: run dir checks, data loaders, loss, model, optimizer, schedule, and the
state of a resumed run."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch

from cvtool.core.artifacts import DatasetManifest
from cvtool.core.augment import PRESETS
from cvtool.core.batch_augment import BatchAugment
from cvtool.core.errors import CvtoolError, ParameterError
from cvtool.core.transforms import (
    JointTransform,
    Transform,
    check_preset,
    eval_transform,
    to_float,
    train_transform,
)
from cvtool.engine import distributed
from cvtool.engine.checkpoint import (
    check_finite_weights,
    checkpoint_manifest,
    read_checkpoint,
)
from cvtool.engine.class_weights import class_weights
from cvtool.engine.config import TrainConfig
from cvtool.engine.data import Dataset, label_stats, open_dataset
from cvtool.engine.loader import WorkerLoader
from cvtool.engine.loggers import import_tensorboard, import_wandb
from cvtool.engine.losses import build_loss
from cvtool.engine.manifest import RunManifest
from cvtool.engine.optim import build_optimizer, build_scheduler
from cvtool.engine.registry import ModelSpec
from cvtool.engine.rundir import (
    check_new_run_dir,
    check_resumable,
    last_checkpoint,
    run_dir_for,
)
from cvtool.engine.sampling import EpochSampler, ShardSampler, oversample_weights


@dataclass
class Resumed:
    """What a resumed run continues from: its manifest, its history and the raw checkpoint
    (model, optimizer and scaler states)."""

    run: RunManifest
    history: list[dict[str, Any]]
    raw: dict[str, Any]


@dataclass
class RunSetup:
    """Everything one process trains with. `net` is `model`, wrapped for DDP when distributed."""

    cfg: TrainConfig
    ctx: distributed.DistContext
    dataset: DatasetManifest
    train_ds: Dataset
    val_ds: Dataset
    class_weights: list[float] | None
    criterion: Any
    model: Any
    net: Any
    optimizer: Any
    scheduler: Any
    scaler: Any
    train_sampler: EpochSampler
    loader_generator: Any
    train_loader: Any
    val_loader: Any
    resumed: Resumed | None
    batch_augment: BatchAugment | None = None  # augmentation on the device, per batch

    @property
    def spec(self) -> ModelSpec:
        return self.cfg.spec

    @property
    def device(self) -> Any:
        return self.ctx.device

    @property
    def segmentation(self) -> bool:
        return self.spec.task == "segmentation"

    @property
    def amp(self) -> bool:
        return self.cfg.amp and self.device.type == "cuda"

    @property
    def channels_last(self) -> bool:
        return self.cfg.channels_last and self.device.type == "cuda"

    def classes_json(self) -> list[dict[str, Any]]:
        return classes_json(self.dataset)


def classes_json(dataset: DatasetManifest) -> list[dict[str, Any]]:
    """The classes as recorded in a run manifest."""
    return [{"id": c.id, "name": c.name, "color": list(c.color)} for c in dataset.classes]


def _check(cfg: TrainConfig) -> tuple[DatasetManifest, Resumed | None]:
    """The dataset manifest, and the state to resume from when `cfg.resume` (otherwise check
    that `cfg.out` may be written)."""
    assert cfg.out is not None and cfg.data is not None
    dataset = DatasetManifest.load(cfg.data)
    if dataset.task != cfg.spec.task:
        raise CvtoolError(
            f"model {cfg.model!r} is a {cfg.spec.task} model but {cfg.data} is a "
            f"{dataset.task} dataset",
            param="data",
        )
    if not cfg.resume:
        check_new_run_dir(cfg.out, cfg.data, cfg.overwrite)
        return dataset, None
    last = last_checkpoint(cfg.out)
    raw = read_checkpoint(last)
    run = checkpoint_manifest(raw, last)
    check_finite_weights(raw, last, run)
    check_resumable(run, cfg, classes_json(dataset), last)
    return dataset, Resumed(run, list(raw["history"]), raw)


def _build_model(cfg: TrainConfig, ctx: distributed.DistContext, k: int, sample: Any) -> Any:
    model = cfg.spec.build(k, **cfg.model_kwargs)
    if any(isinstance(m, torch.nn.modules.lazy.LazyModuleMixin) for m in model.modules()):
        model.eval()
        with torch.no_grad():  # materialise lazy layers before the optimizer sees them
            model(sample.unsqueeze(0))
    model.to(ctx.device)
    cuda = ctx.device.type == "cuda"
    if cuda and cfg.channels_last:
        model.to(memory_format=torch.channels_last)
    if cuda and ctx.distributed:
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    return model


def _loader(cfg: TrainConfig, dataset: Any, sampler: Any, generator: Any, pin: bool) -> Any:
    return WorkerLoader(
        dataset, cfg.batch_size, sampler, cfg.workers, pin_memory=pin, generator=generator
    )


def _transforms(
    cfg: TrainConfig, ctx: distributed.DistContext
) -> tuple[Transform, Transform, BatchAugment | None]:
    """The loaders' transforms, and the device's batch augmentation with `augment_device`
    cuda (the loaders then only resize, and deliver uint8)."""
    p = cfg.preprocess
    if cfg.augment_device == "cpu":
        return train_transform(p, cfg.augment), eval_transform(**p.to_dict()), None
    if ctx.device.type != "cuda":
        raise ParameterError(
            f"augment_device cuda augments on the training device, which is {ctx.device}",
            "augment_device",
            "train on a GPU (`device` cuda), or augment in the loader workers (cpu)",
        )
    check_preset(cfg.augment, p)
    uint8 = JointTransform(p, normalize=False)
    return uint8, uint8, BatchAugment(PRESETS[cfg.augment], p.output_size, p.mean, p.std)


def setup_run(config: TrainConfig, ctx: distributed.DistContext) -> RunSetup:
    """Check and build everything `config` trains with on this process; the run dir is
    chosen and checked but not yet written."""
    cfg = config.resolved()
    cfg = replace(cfg, out=run_dir_for(cfg))
    dataset, resumed = _check(cfg)
    if "wandb" in cfg.loggers and ctx.is_main:
        import_wandb()  # fail before any work when the extra is missing
    if "tensorboard" in cfg.loggers and ctx.is_main:
        import_tensorboard()
    assert cfg.data is not None and cfg.optimizer and cfg.scheduler and cfg.lr
    cuda = ctx.device.type == "cuda"

    train_t, val_t, batch_augment = _transforms(cfg, ctx)
    train_ds = open_dataset(cfg.data, "train", train_t)
    val_ds = open_dataset(cfg.data, "val", val_t)
    workers = 1 if ctx.distributed else None
    for ds in (train_ds, val_ds):
        ds.use_cache(cfg.cache, workers, shared=cfg.workers > 0)
    stats = label_stats(train_ds, workers)
    label_stats(val_ds, workers)  # validates every validation mask up front
    k = dataset.num_classes
    weights = class_weights(cfg.class_weights, stats, cfg.spec.task == "segmentation", k)
    criterion = build_loss(
        cfg.loss, k, dataset.ignore_index, weights, cfg.focal_gamma, cfg.label_smoothing or 0.0
    ).to(ctx.device)
    oversample = oversample_weights(stats.present) if cfg.oversample else None
    sampler = EpochSampler(len(train_ds), cfg.seed, ctx.rank, ctx.world_size, oversample)
    generator = torch.Generator()
    train_loader = _loader(cfg, train_ds, sampler, generator, cuda)
    val_sampler = ShardSampler(len(val_ds), ctx.rank, ctx.world_size)
    val_loader = _loader(cfg, val_ds, val_sampler, None, cuda)

    torch.manual_seed(cfg.seed)
    sample = val_ds[0][0]
    if batch_augment is not None:
        sample = to_float(sample, cfg.preprocess.mean, cfg.preprocess.std)
    model = _build_model(cfg, ctx, k, sample)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise CvtoolError(f"model {cfg.model!r} has no trainable parameters", param="model")
    optimizer = build_optimizer(
        cfg.optimizer, params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
    )
    scaler = torch.amp.GradScaler(ctx.device.type, enabled=cfg.amp and cuda)
    done = 0
    if resumed is not None:
        model.load_state_dict(resumed.raw["model"])
        optimizer.load_state_dict(resumed.raw["optimizer"])
        if resumed.raw.get("scaler"):
            scaler.load_state_dict(resumed.raw["scaler"])
        done = resumed.run.epochs_completed
    steps = len(train_loader)  # per epoch; the schedule is rebuilt for the current total
    scheduler = build_scheduler(
        cfg.scheduler, optimizer, lr=cfg.lr, total_steps=cfg.epochs * steps, start_step=done * steps
    )
    net = model
    if ctx.distributed:
        ids = [ctx.device.index] if cuda else None
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
    return RunSetup(
        cfg, ctx, dataset, train_ds, val_ds, weights, criterion, model, net,
        optimizer, scheduler, scaler, sampler, generator, train_loader, val_loader, resumed,
        batch_augment,
    )  # fmt: skip
