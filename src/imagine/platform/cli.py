"""CLI commands of the platform stage; `register(app)` adds them to the root `imagine` app."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
