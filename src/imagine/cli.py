"""The `imagine` command line: a thin shim over each stage's public functions.

Each stage folder has a ``cli.py`` with ``register(app)``, which adds that stage's commands
(top-level like ``imagine train`` or a group like ``imagine dataset ...``). Heavy libraries
(torch, diffusers, ray) are imported inside the commands, so ``imagine --help`` stays fast.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from imagine import __version__

# Stage modules whose `register(app)` adds commands, in the order the system flows.
STAGE_CLI_MODULES = (
    "imagine.platform.cli",
    "imagine.dataset.cli",
    "imagine.model.cli",
    "imagine.generate.cli",
    "imagine.guard.cli",
    "imagine.serve.cli",
    "imagine.owners.cli",
    "imagine.eval.cli",
)

app = typer.Typer(
    name="imagine",
    help="Consent-aware text-to-image: platform data -> dataset -> model -> guarded generation -> service.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"imagine {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    config: Annotated[Optional[Path], typer.Option("--config", help="TOML settings file (else $IMAGINE_CONFIG or ./imagine.toml).")] = None,
    data_home: Annotated[Optional[Path], typer.Option("--data-home", help="Where data lives (default ./var).")] = None,
    log_level: Annotated[str, typer.Option("--log-level")] = "INFO",
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True)] = False,
) -> None:
    from imagine.config import get_settings
    from imagine.progress import setup_logging

    if config is not None:
        os.environ["IMAGINE_CONFIG"] = str(config)
    if data_home is not None:
        os.environ["IMAGINE_DATA_HOME"] = str(data_home)
    get_settings.cache_clear()
    setup_logging(log_level)


@app.command("demo")
def demo(
    posts: Annotated[Optional[int], typer.Option(help="Demo posts (default: settings.platform.posts).")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed of the demo platform.")] = None,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="End by serving the web app.")] = True,
    host: Annotated[Optional[str], typer.Option(help="Interface for the web app.")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port for the web app.")] = None,
) -> None:
    """The main job on the embedded defaults: demo platform -> dataset -> web app on the shipped model."""
    from imagine.quickstart import run_demo

    run_demo(posts=posts, seed=seed, serve=serve, host=host, port=port)


for _module in STAGE_CLI_MODULES:
    importlib.import_module(_module).register(app)
