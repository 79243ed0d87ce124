"""CLI commands of the model stage; `register(app)` adds them to the root `imagine` app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def train_command(
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset folder (holding images.lance) or a .lance table.")],
    out: Annotated[Path, typer.Option("--out", help="Model folder: the pipeline, its card, and train/ (checkpoints).")],
    config: Annotated[str, typer.Option("--config", help="Training config: a shipped name (default, tiny) or a TOML path.")] = "default",
    version: Annotated[Optional[int], typer.Option("--version", help="Dataset (Lance) version; default: the latest.")] = None,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="Continue from the newest checkpoint in --out.")] = True,
    mirror: Annotated[Optional[Path], typer.Option("--mirror", help="Keep a copy of the newest checkpoint here (e.g. a git-tracked folder); resume from it when --out has none.")] = None,
) -> None:
    """Train a text-to-image model on a dataset version (accelerate; `accelerate launch -m imagine train ...` for many processes)."""
    from imagine.model.train import train

    result = train(dataset, version, config, out, resume, mirror=mirror)
    if result.model_id:
        typer.echo(f"{result.model_id}: {result.steps} steps, {result.wall_seconds / 60:.1f} min -> {result.model_dir}")


def models_command() -> None:
    """List registered models and the dataset versions each was trained on."""
    from imagine.config import get_settings
    from imagine.model.registry import list_models, registry_path

    for record in list_models(registry_path(get_settings().data_home)):
        typer.echo(f"{record.model_id}\t{record.dataset_uri}\tversions={record.dataset_versions}\t{record.path}")


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
    app.command("models")(models_command)
