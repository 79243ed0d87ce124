"""CLI commands of the platform stage; `register(app)` adds them to the root `imagine` app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

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


def register(app: typer.Typer) -> None:
    app.add_typer(platform_app, name="platform")
