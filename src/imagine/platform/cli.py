"""CLI commands of the platform stage; `register(app)` adds them to the root `imagine` app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from imagine.platform.checker_train import TrainConfig

_TRAIN = TrainConfig()
platform_app = typer.Typer(help="The demo photo platform: corpus, scene renderer and scene checker.", no_args_is_help=True)


@platform_app.command("demo")
def demo(
    posts: Annotated[Optional[int], typer.Option(help="Number of posts (default: settings.platform.posts).")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed; the same seed gives byte-identical files.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Output folder (default: <data home>/platform).")] = None,
    workers: Annotated[Optional[int], typer.Option(help="Encoding processes (default: CPU count, at most 8).")] = None,
) -> None:
    """Generate the demo platform export and print its summary."""
    from imagine.config import get_settings
    from imagine.platform.demo import generate_demo
    from imagine.progress import console

    settings = get_settings()
    summary = generate_demo(
        out if out is not None else settings.platform_dir,
        posts if posts is not None else settings.platform.posts,
        seed if seed is not None else settings.platform.seed,
        workers=workers,
    )
    console.print(summary.table())
    typer.echo(f"claim codes: {summary.claim_codes_path}")


@platform_app.command("train-checker")
def train_checker_command(
    out: Annotated[Optional[Path], typer.Option(help="Where to save the weights (default: the shipped asset folder).")] = None,
    samples: Annotated[int, typer.Option(help="Rendered training images.")] = _TRAIN.samples,
    epochs: Annotated[int, typer.Option()] = _TRAIN.epochs,
    seed: Annotated[int, typer.Option()] = _TRAIN.seed,
    threads: Annotated[int, typer.Option(help="Torch CPU threads (results are reproducible for a fixed count).")] = _TRAIN.threads,
    lr: Annotated[float, typer.Option(help="Peak learning rate (one-cycle).")] = _TRAIN.lr,
    layouts: Annotated[float, typer.Option(help="Share of scenes from the hard layouts: large objects, tight rows, mixed colours.")] = _TRAIN.layouts,
    init: Annotated[Optional[Path], typer.Option(help="Fine-tune from this checker folder instead of a random init.")] = None,
    geometry: Annotated[float, typer.Option(help="Chance of each shape augmentation (border crops, smooth warps).")] = _TRAIN.geometry,
) -> None:
    """Train the scene checker's detector on rendered scenes (deterministic for a seed)."""
    from imagine.platform.checker_train import DEFAULT_CHECKER_DIR, train_checker

    try:
        config = TrainConfig(samples=samples, epochs=epochs, seed=seed, threads=threads, lr=lr, layouts=layouts, init=init, geometry=geometry)
        path = train_checker(out or DEFAULT_CHECKER_DIR, config)
    except (ValueError, FileNotFoundError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(f"scene checker saved to {path}")


@platform_app.command("eval-checker")
def eval_checker_command(
    checker_dir: Annotated[Optional[Path], typer.Option(help="Checker weights folder (default: the shipped one).")] = None,
    scenes: Annotated[int, typer.Option(help="Held-out rendered scenes per condition.")] = 1000,
    layout_scenes: Annotated[int, typer.Option(help="Rendered scenes per hard layout (large objects, tight rows, mixed colours).")] = 300,
    seed: Annotated[int, typer.Option(help="Scene seed (checker_eval.EVAL_SEED).")] = 1_000_003,
) -> None:
    """Per-attribute accuracy at 32/64/128 px and false-positive rates of the scene checker (Markdown)."""
    from imagine.platform.checker import SceneChecker
    from imagine.platform.checker_eval import evaluate_checker

    report = evaluate_checker(SceneChecker.load(checker_dir), scenes=scenes, seed=seed, layout_scenes=layout_scenes)
    typer.echo("\n".join(report.lines()))


def register(app: typer.Typer) -> None:
    app.add_typer(platform_app, name="platform")
