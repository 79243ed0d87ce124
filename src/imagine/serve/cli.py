"""CLI commands of the serve stage; `register(app)` adds them to the root `imagine` app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_command(
        host: Annotated[Optional[str], typer.Option("--host", help="Interface to listen on (default from settings).")] = None,
        port: Annotated[Optional[int], typer.Option("--port", help="TCP port (default from settings).")] = None,
        database_url: Annotated[Optional[str], typer.Option("--database-url", help="SQLAlchemy URL; default SQLite under the data home.")] = None,
        redis_url: Annotated[Optional[str], typer.Option("--redis-url", help="Redis for rate limits shared by several processes.")] = None,
        model: Annotated[Optional[Path], typer.Option("--model", help="A diffusers pipeline folder; default the shipped model.")] = None,
    ) -> None:
        """Run the web app and HTTP API (FastAPI under uvicorn)."""
        from imagine.serve.server import serve

        serve(host=host, port=port, database_url=database_url, redis_url=redis_url, model=model)
