"""Admitting a generation request: region, rate limits, then the guarded path's own admission (the
deployment's limits, the prompt policy), then the queue.

Shared by the native API, the OpenAI-compatible endpoint, the web page and the arena, so every entry point
refuses the same things with the same codes. Blocking work (database, policy) runs in a thread, never on the loop.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import Request
from sqlalchemy import delete, select

from typing import TYPE_CHECKING

from imagine.db.models import Image, Job, User, new_id
from imagine.db.models_owners import Refusal
from imagine.generate.requests import GenerationRequest
from imagine.guarded import Refused
from imagine.serve.context import ServiceContext
from imagine.serve.deps import client_ip
from imagine.serve.errors import ApiError
from imagine.serve.jobqueue import LaneFull, QueueFull
from imagine.serve.livejob import DEFAULT_GENERATOR, LiveJob
from imagine.serve.schemas import GenerateCreate, ImagePublic, JobPublic

if TYPE_CHECKING:
    from imagine.guard.policy import PolicyDecision
    from imagine.serve.worker import Worker

log = logging.getLogger(__name__)


def refused(err: Refused) -> ApiError:
    """The guarded path's refusal as the service's error (same code, same field)."""
    extra = {}
    if err.decision is not None:
        extra = {"category": str(err.decision.category), "reason": str(err.decision.reason),
                 "policy_code": str(err.decision.code)}
    return ApiError(err.code, err.message, param=err.param, **extra)


def build_request(ctx: ServiceContext, body: GenerateCreate, *, generator: str = DEFAULT_GENERATOR) -> GenerationRequest:
    """The request with the configured defaults; the limits and the policy are checked at admission."""
    try:
        return ctx.generators[generator].request(
            body.prompt, n=body.n, seed=body.seed, steps=body.steps, guidance=body.guidance,
            negative_prompt=body.negative_prompt or None, sampler=body.sampler)
    except Refused as err:
        raise refused(err) from err


def record_refusal(ctx: ServiceContext, decision: "PolicyDecision") -> None:
    """The operators' refusals-over-time view: category and code only, never the prompt."""
    ctx.metrics.refusals.labels(category=str(decision.category)).inc()
    with ctx.sessions.begin() as db:
        db.add(Refusal(category=str(decision.category), code=str(decision.code)))


def _admit_blocking(ctx: ServiceContext, user: User, ip: str, request: GenerationRequest,
                    loop: asyncio.AbstractEventLoop, generator: str, extra_params: dict | None = None) -> LiveJob:
    worker = ctx.worker
    if worker is None:
        raise ApiError("server_busy", "The model is still loading; try again shortly.", retry_after=5)
    ctx.limiter.hit_generation(user_id=user.id, ip=ip)
    guarded = ctx.generators[generator]
    try:
        guarded.admit(request)
    except Refused as err:
        if err.decision is not None:
            record_refusal(ctx, err.decision)
        raise refused(err) from err
    # Room first, so that a refusal (over the user's share: 429, queue full: 503) stores nothing as theirs.
    try:
        worker.check_room(user.id, request.n)
    except QueueFull as exc:
        raise _no_room(worker, exc) from exc
    job_id = new_id()
    with ctx.sessions.begin() as db:
        db.add(Job(id=job_id, user_id=user.id, status="queued", prompt=request.prompt, instance=ctx.instance,
                   params=job_params(request, generator, guarded.model_id) | (extra_params or {})))
    try:
        return worker.submit(job_id, user.id, request, loop, generator=generator)
    except QueueFull as exc:  # lost a race for the last place since the check: take the row back
        with ctx.sessions.begin() as db:
            db.execute(delete(Job).where(Job.id == job_id))
        raise _no_room(worker, exc) from exc


def _no_room(worker: "Worker", exc: QueueFull) -> ApiError:
    if isinstance(exc, LaneFull):
        wait = worker.retry_after_share()
        return ApiError("queue_share_exceeded", f"You have your share of the queue ({exc}); try again in {wait} s.",
                        retry_after=wait)
    wait = worker.retry_after()
    return ApiError("server_busy", f"The server is busy ({exc}); try again in {wait} s.", retry_after=wait)


def job_params(request: GenerationRequest, generator: str, model_id: str) -> dict:
    """What a job row records of its request: enough to show it, and to queue it again after a restart."""
    params = {"n": request.n, "seed": request.seed, "steps": request.steps, "guidance": request.guidance,
              "negative_prompt": request.negative_prompt, "sampler": request.sampler}
    if generator != DEFAULT_GENERATOR:
        params.update(generator=generator, model=model_id)
    if request.is_edit:
        params.update(edit=True, strength=request.effective_strength, masked=request.mask is not None)
    return params


async def admit(ctx: ServiceContext, http: Request, user: User, body: GenerateCreate, *,
                generator: str = DEFAULT_GENERATOR, extra_params: dict | None = None) -> LiveJob:
    """Check everything and queue the job; raises `ApiError` (400/429/451/503) with the documented codes."""
    return await admit_request(ctx, http, user, build_request(ctx, body, generator=generator), generator=generator,
                               extra_params=extra_params)


async def admit_request(ctx: ServiceContext, http: Request, user: User, request: GenerationRequest, *,
                        generator: str = DEFAULT_GENERATOR, extra_params: dict | None = None) -> LiveJob:
    """`admit` for a request already built (edits build theirs from uploaded images); ``extra_params`` are
    recorded on the job row (e.g. the gallery image an edit came from)."""
    try:
        ctx.region.check(http)
        return await asyncio.to_thread(_admit_blocking, ctx, user, client_ip(http), request,
                                       asyncio.get_running_loop(), generator, extra_params)
    except ApiError as err:
        if err.status in (429, 451, 503):
            ctx.metrics.rejected.labels(code=err.code).inc()
        raise


async def wait_until_done(ctx: ServiceContext, job: LiveJob, http: Request, *, timeout: float) -> None:
    """Wait for a job, cancelling it when the client goes away (or on timeout: 503, the server is too slow)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not job.finished:
        seen = job.version
        await job.wait_change(seen, 0.5)
        if job.finished:
            break
        if await http.is_disconnected():
            log.info("client went away; cancelling job %s", job.id)
            ctx.worker.cancel(job)  # type: ignore[union-attr]
            return
        if loop.time() > deadline:
            ctx.worker.cancel(job)  # type: ignore[union-attr]
            raise ApiError("server_busy", "Generation took too long; try again later.", retry_after=30)


def image_public(row: Image, http: Request) -> ImagePublic:
    return ImagePublic(id=row.id, job_id=row.job_id, prompt=row.prompt, seed=row.seed, width=row.width,
                       height=row.height, params=row.params, created_at=row.created_at,
                       url=str(http.url_for("image_file", image_id=row.id)))


def job_public(row: Job, live: LiveJob | None, image_ids: list[str]) -> JobPublic:
    status, step, total, blocked = row.status, 0, 0, 0
    if live is not None:
        status, step, total, blocked = live.status, live.step, live.total, live.blocked
    return JobPublic(id=row.id, status=status, prompt=row.prompt, params=row.params, step=step, total=total,
                     image_ids=image_ids, blocked=blocked, error_code=row.error_code if live is None else live.error_code,
                     error_message=row.error_message if live is None else live.error_message,
                     created_at=row.created_at, finished_at=row.finished_at)


def owned_job(ctx: ServiceContext, db, user: User, job_id: str) -> Job:  # noqa: ANN001 - Session
    """The user's job, or 404 — also for other users' jobs, so ids reveal nothing."""
    row = db.get(Job, job_id)
    if row is None or row.user_id != user.id:
        raise ApiError("not_found", "No such job.")
    return row


def owned_image(db, user: User, image_id: str) -> Image:  # noqa: ANN001 - Session
    row = db.get(Image, image_id)
    if row is None or row.user_id != user.id:
        raise ApiError("not_found", "No such image.")
    return row


def job_image_ids(db, job_id: str) -> list[str]:  # noqa: ANN001 - Session
    return list(db.scalars(select(Image.id).where(Image.job_id == job_id).order_by(Image.seed)))
