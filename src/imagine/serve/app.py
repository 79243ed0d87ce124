"""The FastAPI app: `create_app(settings)` wires the database, limits, guard, model and worker, then mounts routers.

    uvicorn --factory imagine.serve.app:create_app      # or: imagine serve

Routers come from `ROUTERS` (module names, each with a `router` and optionally `NAV` items); features add
their module there. Heavy parts (model, guard) load in the lifespan, never at import; pass already-loaded ones
(`generator=`, `policy=`, `output_guard=`) to share them between apps in one process, e.g. in tests.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from imagine.config import Settings, get_settings
from imagine.serve.context import ServiceContext
from imagine.db.migrate import upgrade
from imagine.db.session import make_engine, make_sessionmaker
from imagine.serve.delivery import Delivery
from imagine.serve.deps import LoginRequired
from imagine.serve.errors import ApiError, install_error_handlers
from imagine.serve.imagestore import ImageStore
from imagine.serve.metrics import Metrics
from imagine.serve.middleware import BodySizeLimit, SecurityHeaders, TrustedProxies
from imagine.serve.ratelimit import RateLimiter
from imagine.serve.region import RegionPolicy
from imagine.serve.web import STATIC_DIR, NavItem, add_nav, make_templates, render
from imagine.serve.worker import Worker

log = logging.getLogger(__name__)

# The router registry: order matters only for the nav. Issue 7's pages add their modules here.
ROUTERS: list[str] = [
    "imagine.serve.routes.pages",
    "imagine.serve.routes.auth",
    "imagine.serve.routes.generations",
    "imagine.serve.routes.images",
    "imagine.serve.routes.keys",
    "imagine.serve.routes.openai_images",
    "imagine.serve.routes.system",
    "imagine.serve.routes.owners",
    "imagine.serve.routes.arena",
    "imagine.serve.routes.admin",
]

# Image uploads take real photos, so they get `serve.max_upload_bytes` instead of `serve.max_body_bytes`.
UPLOAD_PATHS = ("/used", "/api/used")

CORE_NAV = [NavItem("Create", "/", login_required=False, order=10), NavItem("Gallery", "/gallery", order=20),
            NavItem("API keys", "/keys", order=80)]

DESCRIPTION = """Consent-aware text-to-image: native generation (sync and async jobs with server-sent progress),
images, gallery, API keys, and an OpenAI-compatible `POST /v1/images/generations`.

Authenticate with `Authorization: Bearer <key>` (create keys on the web page `/keys`). Every error has one shape,
`{"error": {"code", "message", "type", "param", ...}}`, with the stable codes listed in docs/api.md."""


def _load_components(settings: Settings, generator: Any, policy: Any, output_guard: Any) -> tuple[Any, Any, Any]:
    if policy is None:
        from imagine.guard.policy import PromptPolicy

        policy = PromptPolicy.load(settings=settings)
    if output_guard is None:
        from imagine.guard.output import OutputGuard

        output_guard = OutputGuard.load(settings.serve.guard_dataset, settings=settings)
    if settings.serve.torch_threads is not None:
        import torch

        torch.set_num_threads(settings.serve.torch_threads)
    if generator is None:
        from imagine.generate.core import Generator

        generator = Generator.load(settings.model_path)
    return generator, policy, output_guard


def create_app(settings: Settings | None = None, *, generator: Any = None, policy: Any = None,
               output_guard: Any = None, limiter_namespace: str = "imagine") -> FastAPI:
    """The service. Everything is built on start-up (lifespan), so creating the app is cheap."""
    settings = settings or get_settings()
    serve = settings.serve

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.resolved_database_url)
        await asyncio.to_thread(upgrade, engine)
        metrics = Metrics()
        ctx = ServiceContext(
            settings=settings, engine=engine, sessions=make_sessionmaker(engine),
            store=ImageStore(settings.images_dir), metrics=metrics,
            limiter=RateLimiter.from_settings(serve, redis_url=settings.redis_url, namespace=limiter_namespace),
            region=RegionPolicy.from_lists(serve.region_header, serve.region_allow, serve.region_deny),
            templates=make_templates(), policy=None)
        app.state.ctx = ctx
        gen, ctx.policy, guard = await asyncio.to_thread(_load_components, settings, generator, policy, output_guard)
        ctx.model_id = getattr(gen, "model_id", "")
        worker = Worker(gen, Delivery(ctx.sessions, ctx.store, metrics, output_guard=guard, settings=settings),
                        metrics, queue_max=serve.queue_max, batch_max_images=serve.batch_max_images,
                        batch_max_wait_s=serve.batch_max_wait_ms / 1000)
        worker.start()
        ctx.worker = worker
        log.info("imagine serve ready: model %s, database %s", ctx.model_id, engine.url.render_as_string())
        try:
            yield
        finally:
            await asyncio.to_thread(worker.stop)
            engine.dispose()

    # FastAPIOffline serves Swagger UI / ReDoc from files in its wheel: /docs works with no internet.
    app = FastAPIOffline(title="imagine", version=_version(), description=DESCRIPTION, lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=serve.max_body_bytes, upload_paths=UPLOAD_PATHS,
                       max_upload_bytes=serve.max_upload_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(TrustedProxies, trusted=serve.trusted_proxies)  # outermost: every layer sees the client
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for item in CORE_NAV:
        add_nav(app.state, item)
    for module_name in ROUTERS:
        module = importlib.import_module(module_name)
        app.include_router(module.router)
        for item in getattr(module, "NAV", []):
            add_nav(app.state, item)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    def render_error(request: Request, err: ApiError) -> Response:
        return render(request, "error.html", status_code=err.status, error=err, headers=err.headers)

    app.state.render_error = render_error
    return app


def _version() -> str:
    from imagine import __version__

    return __version__
