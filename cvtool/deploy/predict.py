"""`predict`: apply a loaded model to images and videos and write a prediction dir.

The whole dir is built in a hidden staging folder and swapped in at the end, so a failed run
leaves nothing half-written. Images are decoded in worker processes; one that cannot be read is
skipped and listed (in `predict.json` and on stderr), as is a video that cannot be opened or
decoded; when nothing at all can be read, nothing is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cvtool.core.artifacts import atomic_write_json, staged_output_dir
from cvtool.core.console import track, warn
from cvtool.core.errors import CvtoolError
from cvtool.core.inference import Inference
from cvtool.core.parallel import parallel_map
from cvtool.core.provenance import provenance
from cvtool.core.sources import SourceItem, Sources, read_image_or_reason
from cvtool.core.video import VideoWriter, open_video
from cvtool.deploy.models import LoadedModel
from cvtool.segment.predict import OVERLAYS_DIR, MaskWriter, SegmentOptions

MANIFEST = "predict.json"
Sample = tuple[Any, np.ndarray]  # (key, (3, H, W) uint8 image)


@dataclass
class PredictSettings:
    """How to run: images per forward pass, torch device, AMP on CUDA, decoding processes;
    `top_k` and `contact_sheet` for classifiers; `segment` for segmentation models; `yolo`
    (a `YoloOptions`), `annotations` and `category_map` for detectors."""

    batch_size: int = 4
    device: Any = None
    amp: bool = True
    workers: int | None = None
    top_k: int = 5
    contact_sheet: bool = True
    segment: SegmentOptions = field(default_factory=SegmentOptions)
    yolo: Any = None
    annotations: Path | None = None
    category_map: str | Path | None = None


@dataclass
class PredictOutcome:
    """The prediction dir and what went into it (`manifest` is `predict.json`)."""

    path: Path
    task: str
    images: int
    frames: int
    skipped: list[dict[str, str]]
    seconds: float
    manifest: dict[str, Any]


def _readable(sources: Sources, workers: int | None, skipped: list) -> Iterator[Sample]:
    decoded = parallel_map(
        read_image_or_reason, sources.images, workers, f"predicting {len(sources.images)} images"
    )
    for item, image in zip(sources.images, decoded, strict=True):
        if isinstance(image, str):
            skipped.append((item, image))
        else:
            yield item, image


def _frames(reader: Any, name: str) -> Iterator[Sample]:
    for k, frame in enumerate(track(reader, name, total=reader.frames or None)):
        yield k, np.ascontiguousarray(frame.transpose(2, 0, 1))


class _Dense:
    """Segmentation and classification: batches of probabilities into the task's writer."""

    def __init__(self, model: LoadedModel, stage: Path, s: PredictSettings) -> None:
        assert model.info is not None
        self.info, self.stage, self.settings = model.info, stage, s
        self.run = Inference(s.batch_size, s.device, s.amp, s.workers)
        self.segmentation = self.info.task == "segmentation"
        if self.segmentation:
            from cvtool.segment.predict import segment_batches

            self.masks = MaskWriter(stage, self.info.classes, s.segment)
            self.batches: Callable[[Iterable[Sample]], Iterator[Any]] = (
                lambda samples: segment_batches(
                    model.module, self.info.preprocess, samples, self.run, s.segment,
                    self.info.calibration,
                )
            )  # fmt: skip
        else:
            from cvtool.classify.predict import LabelWriter, classify_batches

            self.labels = LabelWriter(stage, self.info.class_names, s.top_k, s.contact_sheet)
            self.batches = lambda samples: classify_batches(
                model.module, self.info.preprocess, samples, self.run, self.info.calibration
            )

    def images(self, samples: Iterable[Sample]) -> int:
        count = 0
        for group, probs in self.batches(samples):
            count += len(group)
            if self.segmentation:
                masks, tops = MaskWriter.split(probs)
                for (item, image), mask, top in zip(group, masks, tops, strict=True):
                    self.masks.write(item.name, image, mask, top)
            else:
                for (item, image), p in zip(group, probs.cpu().numpy(), strict=True):
                    self.labels.add(_file(item), None, image, p)
        return count

    def video(self, item: SourceItem) -> int:
        """Predict every frame; on failure nothing of this video is kept."""
        count, rows = 0, len(self.labels.rows) if not self.segmentation else 0
        with open_video(item.path) as reader:
            frames = _frames(reader, f"predicting {item.path.name}")
            if not self.segmentation:
                try:
                    for group, probs in self.batches(frames):
                        for (k, image), p in zip(group, probs.cpu().numpy(), strict=True):
                            self.labels.add(_file(item), k, image, p)
                        count += len(group)
                except CvtoolError:
                    del self.labels.rows[rows:]
                    raise
                return count
            with VideoWriter(self.stage / OVERLAYS_DIR / item.output(".mp4"), reader.fps) as out:
                for group, probs in self.batches(frames):
                    masks, _ = MaskWriter.split(probs)
                    for (_, image), mask in zip(group, masks, strict=True):
                        out.write(self.masks.frame(image.transpose(1, 2, 0), mask))
                    count += len(group)
        return count

    def finish(self, title: str) -> None:
        if not self.segmentation:
            self.labels.finish(title)


def _file(item: SourceItem) -> str:
    return item.name + item.path.suffix


def _dense(model: LoadedModel, sources: Sources, stage: Path, s: PredictSettings) -> dict:
    task = _Dense(model, stage, s)
    skipped: list[tuple[SourceItem, str]] = []
    images = task.images(_readable(sources, s.workers, skipped))
    frames = 0
    for item in sources.videos:
        try:
            frames += task.video(item)
        except CvtoolError as e:
            skipped.append((item, e.message))
    if images + frames:
        task.finish(f"{model.label}: predictions")
    return {"images": images, "frames": frames, "skipped": skipped}


def _detect(model: LoadedModel, sources: Sources, stage: Path, s: PredictSettings) -> dict:
    from cvtool.detect.predict import detect_items

    skipped: list[tuple[SourceItem, str]] = [
        (v, "videos are not supported for detection models (`cvtool track` runs them)")
        for v in sources.videos
    ]
    readable = [item for item, _ in _readable(sources, s.workers, skipped)]
    summary: dict[str, Any] = {"images": 0}
    if readable:
        summary, missing = detect_items(
            model.module, readable, stage, s.yolo, s.annotations, s.category_map
        )
        skipped += missing
    return {**summary, "frames": 0, "skipped": skipped}


def _options(s: PredictSettings, task: str) -> dict[str, Any]:
    common = {"batch_size": s.batch_size, "device": str(s.device), "amp": s.amp}
    if task == "segmentation":
        return {**common, **asdict(s.segment)}
    if task == "classification":
        return {**common, "top_k": s.top_k, "contact_sheet": s.contact_sheet}
    return {**common, **vars(s.yolo), "annotations": s.annotations, "category_map": s.category_map}


def run_predict(
    model: LoadedModel, sources: Sources, out: Path, s: PredictSettings, overwrite: bool = False
) -> PredictOutcome:
    """Predict every image and video of `sources` with `model` into the new dir `out`."""
    start = time.perf_counter()
    with staged_output_dir(out, overwrite) as stage:
        if model.task == "detection":
            result = _detect(model, sources, stage, s)
        else:
            result = _dense(model, sources, stage, s)
        skipped = [{"file": str(item.path), "reason": why} for item, why in result.pop("skipped")]
        if not result["images"] + result["frames"]:
            raise CvtoolError(
                f"none of the {len(sources)} inputs of {sources.source} could be used: "
                + "; ".join(f"{s['file']}: {s['reason']}" for s in skipped[:5]),
                param="source",
            )
        seconds = time.perf_counter() - start
        manifest = {
            "model": {
                "path": str(model.path),
                "kind": model.kind,
                "task": model.task,
                "name": model.info.model if model.info else "yolo",
                "classes": model.info.class_names if model.info else None,
            },
            "source": sources.source,
            "options": _options(s, model.task),
            **result,
            "videos": [str(v.path) for v in sources.videos],
            "skipped": skipped,
            "seconds": round(seconds, 3),
            **provenance("torch", "torchvision", "onnxruntime"),
        }
        atomic_write_json(stage / MANIFEST, manifest)
    for entry in skipped:
        warn(f"skipped {entry['file']}: {entry['reason']}")
    return PredictOutcome(
        out, model.task, result["images"], result["frames"], skipped, seconds, manifest
    )
