"""`cvtool download ...`: official datasets and pretrained weights, resumable and verified."""

from __future__ import annotations

from pathlib import Path

import typer

from cvtool.cli.common import CommandResult, out_option, overwrite_option, stage_command
from cvtool.download.catalogue import DATA_DIR, DATASETS, MIRROR_ENV, YOLO_WEIGHTS, DatasetSpec, mib

app = typer.Typer(
    help=(
        "Download datasets and pretrained weights from their official locations: streamed, "
        "resumable after an interruption, verified against the published checksums, and laid "
        "out the way `cvtool prepare` and `cvtool track` expect.\n\n"
        "    root=$(cvtool download mot17 --out data)"
    ),
    no_args_is_help=True,
)

MIRROR_HELP = (
    f"Base URL of a mirror holding each file under <mirror>/<host>/<path> "
    f"(default: ${MIRROR_ENV}, else the official servers)."
)


def _dataset_command(spec: DatasetSpec) -> None:
    layout = "\n\n".join(f"    DIR/{entry}" for entry in spec.layout)
    root = "DIR" if spec.root == "." else f"DIR/{spec.root}"
    size = "size not published" if spec.total_size is None else mib(spec.total_size)

    def command(
        out: Path = out_option("Directory to download and extract into.", DATA_DIR),
        mirror: str = typer.Option(None, "--mirror", help=MIRROR_HELP),
        overwrite: bool = overwrite_option("Replace an existing copy of the dataset in --out."),
        keep_archives: bool = typer.Option(
            False,
            "--keep-archives",
            help="Keep the verified archives in DIR/.cvtool/archives after extracting.",
        ),
        timeout: float = typer.Option(15.0, "--timeout", help="Network timeout in seconds."),
        retries: int = typer.Option(
            2, "--retries", min=0, help="Automatic resumes after a broken transfer."
        ),
    ) -> CommandResult:
        from cvtool.api.download import download_dataset

        result = download_dataset(
            spec.name,
            out,
            mirror=mirror,
            overwrite=overwrite,
            keep_archives=keep_archives,
            timeout=timeout,
            retries=retries,
            progress=True,
        )
        return CommandResult(result.path, result.to_dict())

    command.__doc__ = (
        f"{spec.description} ({size}).\n\n"
        f"Writes:\n\n{layout}\n\n"
        f"Prints the directory the next stage reads ({root}). Example:\n\n"
        f"    cvtool download {spec.name} --out data"
    )
    stage_command(app, spec.name)(command)


for _spec in DATASETS.values():
    _dataset_command(_spec)


@stage_command(app, "weights")
def weights(
    name: str = typer.Argument(
        ...,
        help=f"{', '.join(YOLO_WEIGHTS)}, a torchvision model name (resnet50) or weights enum "
        "(ResNet50_Weights.IMAGENET1K_V2).",
    ),
    out: Path | None = out_option("Directory to save into (default: the library's own cache)."),
    mirror: str = typer.Option(None, "--mirror", help=MIRROR_HELP),
    timeout: float = typer.Option(15.0, "--timeout", help="Network timeout in seconds."),
    retries: int = typer.Option(
        2, "--retries", min=0, help="Automatic resumes after a broken transfer."
    ),
) -> CommandResult:
    """Download pretrained weights into the cache the library already reads.

    YOLO files go to Ultralytics' weights directory (SETTINGS["weights_dir"]), torchvision
    weights to torch.hub.get_dir()/checkpoints. Prints the path of the file. Example:

        cvtool download weights yolov8n.pt
    """
    from cvtool.api.download import download_weights

    result = download_weights(
        name, out, mirror=mirror, timeout=timeout, retries=retries, progress=True
    )
    return CommandResult(result.path, result.to_dict())


@stage_command(app, "list")
def list_sources() -> CommandResult:
    """List the datasets and weights with their sources, sizes and checksums. Example:

    cvtool download list
    """
    from rich.table import Table

    from cvtool.core.console import console, info, literal
    from cvtool.download.catalogue import catalogue_files

    table = Table(title="cvtool download")
    for column in ("name", "url", "size", "checksum"):
        table.add_column(column, overflow="fold")
    rows = catalogue_files()
    for name, source in rows:
        check = source.checksum
        table.add_row(
            name,
            literal(source.url),
            mib(source.size),
            f"{check.algorithm} {check.hexdigest}" if check else "none published",
        )
    console.print(table)
    info("torchvision weights: any model or weights enum, sha256 prefix from the name")
    files = [
        {
            "name": name,
            "url": source.url,
            "bytes": source.size,
            "checksum": f"{source.checksum.algorithm}:{source.checksum.hexdigest}"
            if source.checksum
            else None,
        }
        for name, source in rows
    ]
    return CommandResult(None, {"files": files})
