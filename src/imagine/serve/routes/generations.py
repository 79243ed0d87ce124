"""Native generation: synchronous (`POST /api/v1/generations`) and asynchronous jobs with live progress (SSE)."""

from __future__ import annotations

import asyncio
import json
from typing import AsyncIterator

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select, update

from imagine.db.models import Image, Job, utcnow
from imagine.serve.context import ServiceContext
from imagine.serve.deps import ApiUser, CtxDep, DbDep
from imagine.serve.errors import ApiError, ErrorResponse
from imagine.serve.generation import (admit, image_public, job_image_ids, job_public, owned_job,
                                      wait_until_done)
from imagine.serve.livejob import FINAL
from imagine.serve.schemas import GenerateCreate, GenerationPublic, JobPublic

ERRORS = {code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 413, 429, 451, 503)}

router = APIRouter(prefix="/api/v1", tags=["generation"], responses=ERRORS)
ROW_POLL_S = 1.0  # how often an SSE stream re-reads a job that another process holds


@router.post("/generations", response_model=GenerationPublic, summary="Generate images and wait for them")
async def generate_sync(body: GenerateCreate, http: Request, user: ApiUser, ctx: CtxDep) -> GenerationPublic:
    """Queue, wait, and return the delivered images. Disconnecting cancels the job."""
    job = await admit(ctx, http, user, body)
    await wait_until_done(ctx, job, http, timeout=ctx.settings.serve.sync_timeout_s)
    if job.status == "failed":
        raise ApiError("generation_failed", job.error_message or "Generation failed.")
    with ctx.sessions() as db:
        row = db.get(Job, job.id)
        images = list(db.scalars(select(Image).where(Image.job_id == job.id).order_by(Image.seed)))
        return GenerationPublic(job=job_public(row, job, [i.id for i in images]),
                                images=[image_public(i, http) for i in images])


@router.post("/jobs", response_model=JobPublic, status_code=202, summary="Queue a generation job")
async def create_job(body: GenerateCreate, http: Request, user: ApiUser, ctx: CtxDep) -> JobPublic:
    """Returns at once; follow `GET /api/v1/jobs/{id}/events` (SSE) or poll `GET /api/v1/jobs/{id}`."""
    job = await admit(ctx, http, user, body)
    with ctx.sessions() as db:
        return job_public(db.get(Job, job.id), job, [])


@router.get("/jobs", response_model=list[JobPublic], summary="Your recent jobs")
def list_jobs(user: ApiUser, db: DbDep, ctx: CtxDep, limit: int = Query(20, ge=1, le=100)) -> list[JobPublic]:
    rows = db.scalars(select(Job).where(Job.user_id == user.id).order_by(Job.created_at.desc()).limit(limit))
    return [job_public(r, ctx.worker.get(r.id) if ctx.worker else None, job_image_ids(db, r.id)) for r in rows]


@router.get("/jobs/{job_id}", response_model=JobPublic, summary="One job, with live progress")
def get_job(job_id: str, user: ApiUser, db: DbDep, ctx: CtxDep) -> JobPublic:
    row = owned_job(ctx, db, user, job_id)
    return job_public(row, ctx.worker.get(job_id) if ctx.worker else None, job_image_ids(db, job_id))


@router.delete("/jobs/{job_id}", response_model=JobPublic, summary="Cancel a job")
def cancel_job(job_id: str, user: ApiUser, db: DbDep, ctx: CtxDep) -> JobPublic:
    row = owned_job(ctx, db, user, job_id)
    live = ctx.worker.get(job_id) if ctx.worker else None
    if live is not None and not live.finished:
        ctx.worker.cancel(live)  # type: ignore[union-attr]
    elif live is None and row.status not in FINAL:
        # Not in this process's queue (another process sharing the database holds it): mark the row; the
        # holder never overwrites a final status (`Delivery.record_job_end`).
        db.execute(update(Job).where(Job.id == job_id, Job.status.not_in(FINAL)).values(
            status="cancelled", error_code="cancelled", error_message="Cancelled.", finished_at=utcnow()))
        db.commit()
    db.refresh(row)
    return job_public(row, live, job_image_ids(db, job_id))


@router.get("/jobs/{job_id}/events", summary="Live progress as server-sent events",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "`progress` events (step, total, previews as data URLs), then one "
                                            "`done` event with the job and its images."}})
async def job_events(job_id: str, http: Request, user: ApiUser, ctx: CtxDep,
                     cancel_on_disconnect: bool = Query(False, description="Cancel the job if this stream closes "
                                                                           "before it finishes.")) -> StreamingResponse:
    with ctx.sessions() as db:
        owned_job(ctx, db, user, job_id)
    live = ctx.worker.get(job_id) if ctx.worker else None

    async def stream() -> AsyncIterator[str]:
        if live is not None:
            seen = -1
            while not live.finished:
                if live.version != seen:
                    seen = live.version
                    yield _sse("progress", live.progress())
                await live.wait_change(seen, 10.0)
                if await http.is_disconnected():
                    if cancel_on_disconnect and ctx.worker is not None:
                        ctx.worker.cancel(live)
                    return
                if live.version == seen:
                    yield ": keep-alive\n\n"
        else:  # not in this process's queue: follow the row until it is final, never report "done" before
            status = None
            while (row_status := await asyncio.to_thread(_row_status, ctx, job_id)) not in FINAL:
                if row_status != status:
                    status = row_status
                    yield _sse("progress", {"id": job_id, "status": status, "step": 0, "total": 0, "previews": []})
                else:
                    yield ": keep-alive\n\n"
                if await http.is_disconnected():
                    return
                await asyncio.sleep(ROW_POLL_S)
        with ctx.sessions() as db:
            row = db.get(Job, job_id)
            images = list(db.scalars(select(Image).where(Image.job_id == job_id).order_by(Image.seed)))
            payload = {"job": job_public(row, live, [i.id for i in images]).model_dump(mode="json"),
                       "images": [image_public(i, http).model_dump(mode="json") for i in images]}
        yield _sse("done", payload)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _row_status(ctx: ServiceContext, job_id: str) -> str | None:
    with ctx.sessions() as db:
        return db.scalar(select(Job.status).where(Job.id == job_id))


def _sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
