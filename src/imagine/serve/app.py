"""The FastAPI app: `create_app(settings)` wires the database, limits, guard, model and worker, then mounts routers.

    uvicorn --factory imagine.serve.app:create_app      # or: imagine serve

Routers come from `ROUTERS` (module names, each with a `router`, optionally `NAV` items and an
`on_startup(ctx)` hook run once the served model is loaded, e.g. to register more guarded generators); features
add their module there. Heavy parts (model, guard) load in the lifespan, never at import; pass already-loaded
ones (`generator=`, `policy=`, `output_guard=`) to share them between apps in one process, e.g. in tests.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import socket
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from imagine.config import Settings, get_settings
from imagine.db.migrate import upgrade
from imagine.db.session import make_engine, make_sessionmaker
from imagine.guarded import GuardedGenerator, Limits
from imagine.serve.context import ServiceContext
from imagine.serve.delivery import Delivery
from imagine.serve.deps import LoginRequired
from imagine.serve.errors import ApiError, install_error_handlers
from imagine.serve.imagestore import ImageStore
from imagine.serve.livejob import DEFAULT_GENERATOR
from imagine.serve.metrics import Metrics
from imagine.serve.middleware import BodySizeLimit, SecurityHeaders, TrustedProxies
from imagine.serve.ratelimit import RateLimiter
from imagine.serve.recovery import recover
from imagine.serve.region import RegionPolicy
from imagine.serve.web import STATIC_DIR, NavItem, add_nav, make_templates, render
from imagine.serve.worker import Worker

log = logging.getLogger(__name__)

# The router registry: order matters only for the nav.
ROUTERS: list[str] = [
    "imagine.serve.routes.pages",
    "imagine.serve.routes.auth",
    "imagine.serve.routes.generations",
    "imagine.serve.routes.edits",
    "imagine.serve.routes.images",
    "imagine.serve.routes.keys",
    "imagine.serve.routes.openai_images",
    "imagine.serve.routes.system",
    "imagine.serve.routes.owners",
    "imagine.serve.routes.arena",
    "imagine.serve.routes.admin",
    "imagine.serve.routes.policy_reports",
]

# Image uploads take real photos, so they get `serve.max_upload_bytes` instead of `serve.max_body_bytes`.
UPLOAD_PATHS = ("/used", "/api/used", "/v1/images/edits", "/v1/images/variations", "/api/v1/edits",
                "/api/v1/edits/jobs")

CORE_NAV = [NavItem("Create", "/", login_required=False, order=10), NavItem("Gallery", "/gallery", order=20),
            NavItem("API keys", "/keys", order=80)]

DESCRIPTION = """Consent-aware text-to-image: native generation (sync and async jobs with server-sent progress),
images, gallery, API keys, and an OpenAI-compatible `POST /v1/images/generations`.

Authenticate with `Authorization: Bearer <key>` (create keys on the web page `/keys`). Every error has one shape,
`{"error": {"code", "message", "type", "param", ...}}`, with the stable codes listed in docs/api.md."""


def _load_default_generator(settings: Settings, generator: Any, policy: Any, output_guard: Any) -> GuardedGenerator:
    """The served model as a guarded generator; parts passed to `create_app` are used as they are."""
    if settings.serve.torch_threads is not None:
        import torch

        torch.set_num_threads(settings.serve.torch_threads)
    return GuardedGenerator.from_settings(settings, generator=generator, policy=policy, output_guard=output_guard,
                                          limits=Limits.from_serve(settings.serve))


def create_app(settings: Settings | None = None, *, generator: Any = None, policy: Any = None,
               output_guard: Any = None, limiter_namespace: str = "imagine") -> FastAPI:
    """The service. Everything is built on start-up (lifespan), so creating the app is cheap."""
    settings = settings or get_settings()
    serve = settings.serve
    modules = [importlib.import_module(name) for name in ROUTERS]

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
            templates=make_templates(), instance=serve.instance or socket.gethostname()[:64])
        app.state.ctx = ctx
        guarded = await asyncio.to_thread(_load_default_generator, settings, generator, policy, output_guard)
        ctx.generators[DEFAULT_GENERATOR] = guarded
        ctx.model_id = guarded.model_id
        for module in modules:  # features register what they need (the arena: its other models)
            hook = getattr(module, "on_startup", None)
            if hook is not None:
                await asyncio.to_thread(hook, ctx)
        worker = Worker(ctx.generators, Delivery(ctx.sessions, ctx.store, metrics), metrics,
                        queue_max=serve.queue_max, batch_max_images=serve.batch_max_images,
                        batch_max_wait_s=serve.batch_max_wait_ms / 1000, user_max_images=serve.user_queue_images)
        ctx.worker = worker
        await asyncio.to_thread(recover, ctx, asyncio.get_running_loop())  # what a crash left behind
        worker.start()
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
    for module in modules:
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
