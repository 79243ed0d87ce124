"""`serve(...)`: the library function behind `imagine serve` — settings overrides, then uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imagine.config import Settings, get_settings


def serve_settings(*, host: str | None = None, port: int | None = None, database_url: str | None = None,
                   redis_url: str | None = None, model: Path | None = None, base: Settings | None = None) -> Settings:
    """The configured settings with the command-line values on top (CLI flags win)."""
    settings = base or get_settings()
    updates: dict[str, object] = {}
    if database_url is not None:
        updates["database_url"] = database_url
    if redis_url is not None:
        updates["redis_url"] = redis_url
    if model is not None:
        if not (Path(model) / "model_index.json").is_file():
            raise FileNotFoundError(f"--model {model} is not a diffusers pipeline folder (no model_index.json)")
        updates["model"] = Path(model)
    serve_updates = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    if serve_updates:
        updates["serve"] = settings.serve.model_copy(update=serve_updates)
    return settings.model_copy(update=updates)


def uvicorn_config(app: Any, settings: Settings, *, log_level: str = "info") -> Any:
    """How `imagine serve` runs uvicorn. ``proxy_headers=False``: uvicorn would otherwise believe X-Forwarded-For
    from 127.0.0.1; the app believes it only from `serve.trusted_proxies` (``middleware.TrustedProxies``)."""
    import uvicorn

    return uvicorn.Config(app, host=settings.serve.host, port=settings.serve.port, log_level=log_level,
                          proxy_headers=False, timeout_graceful_shutdown=10)


def serve(*, host: str | None = None, port: int | None = None, database_url: str | None = None,
          redis_url: str | None = None, model: Path | None = None, log_level: str = "info") -> None:
    import uvicorn

    from imagine.serve.app import create_app

    settings = serve_settings(host=host, port=port, database_url=database_url, redis_url=redis_url, model=model)
    uvicorn.Server(uvicorn_config(create_app(settings), settings, log_level=log_level)).run()
