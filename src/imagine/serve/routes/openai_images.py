"""OpenAI-compatible Images API, so the official `openai` client works with `base_url` at us:
`POST /v1/images/generations`, `POST /v1/images/edits` (multipart) and `POST /v1/images/variations`.

Every parameter is validated against one table (`imagine.serve.openai_params.PARAMS`, also docs/api.md):
supported, mapped (e.g. `quality` to steps) or refused with a 400 that names it. `size` must be the delivered
size (`WxH`, see `GuardSettings.delivered_size`); `url` results point at `/api/v1/images/{id}/file`, fetched with
the same bearer key. Refusals by the content policy are HTTP 400 with `code: content_policy_violation`, as OpenAI
answers them. `stream=true` answers server-sent events the official client parses: `<kind>.partial_image`
(with `partial_images` > 0) and one `<kind>.completed` per image, `kind` being `image_generation` or `image_edit`.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
from typing import Any, AsyncIterator

from fastapi import APIRouter, Request
from PIL import Image as PILImage
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from starlette.datastructures import UploadFile

from imagine.db.models import Image
from imagine.generate.requests import GenerationRequest
from imagine.guard.provenance import encode_as
from imagine.guard.metadata import GenerationInfo
from imagine.guarded import Refused, source_of
from imagine.serve.context import ServiceContext
from imagine.serve.deps import ApiUser, CtxDep
from imagine.serve.edits import edit_request, open_input, open_mask, variation_request
from imagine.serve.errors import ApiError, ErrorResponse
from imagine.serve.generation import admit_request, refused, wait_until_done
from imagine.serve.livejob import DEFAULT_GENERATOR, LiveJob
from imagine.serve.openai_params import PARAMS, Endpoint, Resolved, resolve
from imagine.serve.schemas import OpenAIImage, OpenAIImagesResponse

router = APIRouter(prefix="/v1", tags=["openai-compatible"],
                   responses={c: {"model": ErrorResponse} for c in (400, 401, 403, 413, 415, 429, 451, 503)})

MAX_INPUT_IMAGES = 16


def _schema(endpoint: Endpoint, media: str) -> dict:
    """The request body in the OpenAPI document, from the parameter table (the route reads the body itself,
    so that unknown parameters are refused by name rather than dropped)."""
    properties = {p.name: {"description": f"{p.status}: {p.values}. {p.note}",
                           **({"type": "string", "format": "binary"} if p.name in ("image", "mask") else {})}
                  for p in PARAMS if endpoint in p.endpoints}
    return {"requestBody": {"required": True, "content": {media: {"schema": {"type": "object",
                                                                                 "properties": properties}}}}}


def _resolve(ctx: ServiceContext, endpoint: Endpoint, fields: dict[str, Any]) -> Resolved:
    """JSON bodies (generations) are strict; multipart fields (edits, variations) are text."""
    return resolve(endpoint, fields, model_id=ctx.generators[DEFAULT_GENERATOR].model_id,
                   delivered_size=ctx.settings.guard.delivered_size, max_n=ctx.settings.serve.max_n,
                   default_steps=ctx.settings.generate.steps, text=endpoint != "generations")


def _job_extra(endpoint: Endpoint, p: Resolved) -> dict:
    return {"openai": endpoint} | ({"end_user": p.end_user} if p.end_user else {})


async def _form(http: Request) -> tuple[dict[str, str], list[UploadFile], UploadFile | None]:
    """Multipart fields, the input images (`image` or `image[]`) and the mask."""
    if not http.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError("unsupported_media_type", "Send multipart/form-data (image files and fields).")
    form = await http.form(max_files=MAX_INPUT_IMAGES + 1, max_fields=64)
    fields: dict[str, str] = {}
    images: list[UploadFile] = []
    mask: UploadFile | None = None
    for key, value in form.multi_items():
        if key in ("image", "image[]"):
            if not isinstance(value, UploadFile):
                raise ApiError("invalid_request", "image must be a file.", param="image")
            images.append(value)
        elif key == "mask":
            if not isinstance(value, UploadFile):
                raise ApiError("invalid_request", "mask must be a PNG file.", param="mask")
            mask = value
        elif isinstance(value, UploadFile):
            raise ApiError("invalid_request", f"Unknown file parameter {key!r}; files: image, mask.", param=key)
        else:
            fields[key] = value
    if not images:
        raise ApiError("invalid_request", "image is required: one or more PNG, JPEG or WebP files.", param="image")
    if len(images) > MAX_INPUT_IMAGES:
        raise ApiError("invalid_request", f"at most {MAX_INPUT_IMAGES} images.", param="image")
    return fields, images, mask


async def _read(ctx: ServiceContext, upload: UploadFile) -> bytes:
    return await upload.read(ctx.settings.serve.max_upload_bytes + 1)


async def _admit_all(ctx: ServiceContext, http: Request, user, requests: list[GenerationRequest],  # noqa: ANN001
                     extra: dict) -> list[LiveJob]:
    """Queue every request; if one is refused, the ones already queued are cancelled (all or nothing)."""
    jobs: list[LiveJob] = []
    try:
        for request in requests:
            jobs.append(await admit_request(ctx, http, user, request, extra_params=extra))
    except ApiError:
        for job in jobs:
            ctx.worker.cancel(job)  # type: ignore[union-attr]
        raise
    return jobs


@router.post("/images/generations", response_model=OpenAIImagesResponse, response_model_exclude_none=True,
             summary="Create images (OpenAI Images API)", openapi_extra=_schema("generations", "application/json"))
async def create_images(http: Request, user: ApiUser, ctx: CtxDep):
    try:
        fields = await http.json()
    except ValueError:
        fields = None
    if not isinstance(fields, dict):
        raise ApiError("malformed_json", "The request body is not a valid JSON object.")
    p = _resolve(ctx, "generations", fields)
    try:
        request = ctx.generators[DEFAULT_GENERATOR].request(p.prompt, n=p.n, seed=p.seed, steps=p.steps,
                                                            negative_prompt=p.negative_prompt)
    except Refused as err:
        raise refused(err) from err
    jobs = await _admit_all(ctx, http, user, [request], _job_extra("generations", p))
    return await _answer(ctx, http, jobs, p, "image_generation")


@router.post("/images/edits", response_model=OpenAIImagesResponse, response_model_exclude_none=True,
             summary="Edit images, with an optional alpha mask (OpenAI Images API)",
             openapi_extra=_schema("edits", "multipart/form-data"))
async def edit_images(http: Request, user: ApiUser, ctx: CtxDep):
    fields, uploads, mask_upload = await _form(http)
    p = _resolve(ctx, "edits", fields)
    if p.stream and len(uploads) > 1:
        raise ApiError("invalid_request", "stream: streams one image's edit; send one image.", param="stream")
    datas = [(await _read(ctx, u), u.filename) for u in uploads]
    inputs = [await asyncio.to_thread(open_input, ctx, data, filename=name) for data, name in datas]
    mask = None
    if mask_upload is not None:
        mask = await asyncio.to_thread(open_mask, ctx, await _read(ctx, mask_upload), inputs[0])
    requests = [edit_request(ctx, edit, prompt=p.prompt, mask=mask if i == 0 else None, strength=p.strength, n=p.n,
                             seed=p.seed, steps=p.steps, negative_prompt=p.negative_prompt)
                for i, edit in enumerate(inputs)]
    jobs = await _admit_all(ctx, http, user, requests, _job_extra("edits", p))
    return await _answer(ctx, http, jobs, p, "image_edit")


@router.post("/images/variations", response_model=OpenAIImagesResponse, response_model_exclude_none=True,
             summary="Variations of an image (OpenAI Images API)",
             openapi_extra=_schema("variations", "multipart/form-data"))
async def create_variations(http: Request, user: ApiUser, ctx: CtxDep):
    fields, uploads, mask_upload = await _form(http)
    if mask_upload is not None:
        raise ApiError("invalid_request", "Unknown parameter 'mask' for /v1/images/variations.", param="mask")
    if len(uploads) != 1:
        raise ApiError("invalid_request", "image: variations take exactly one image.", param="image")
    p = _resolve(ctx, "variations", fields)
    edit = await asyncio.to_thread(open_input, ctx, await _read(ctx, uploads[0]), filename=uploads[0].filename)
    request = variation_request(ctx, edit, n=p.n, seed=p.seed)
    jobs = await _admit_all(ctx, http, user, [request], _job_extra("variations", p))
    return await _answer(ctx, http, jobs, p, "image_generation")


# -- answers ---------------------------------------------------------------------------------------------


def _encode(ctx: ServiceContext, png: bytes, p: Resolved) -> bytes:
    signing = ctx.generators[DEFAULT_GENERATOR].stamper.signing
    return encode_as(png, p.output_format, max(1, p.output_compression), signing)


def _rows(ctx: ServiceContext, job: LiveJob) -> list[Image]:
    with ctx.sessions() as db:
        return list(db.scalars(select(Image).where(Image.job_id == job.id).order_by(Image.seed)))


def _check_done(job: LiveJob) -> None:
    if job.status != "succeeded":
        raise ApiError("generation_failed", job.error_message or f"Generation {job.status}.")
    if job.blocked and not job.image_ids:
        raise ApiError("content_policy_violation", "Every generated image was withheld by the output guard.",
                       category="output", reason="withheld by the output checks")


def _meta(ctx: ServiceContext, p: Resolved) -> dict:
    side = ctx.settings.guard.delivered_size
    return {"background": "opaque", "output_format": p.output_format, "size": f"{side}x{side}",
            **({"quality": p.quality} if p.quality != "auto" else {})}


async def _answer(ctx: ServiceContext, http: Request, jobs: list[LiveJob], p: Resolved, kind: str):
    if p.stream:
        return StreamingResponse(_stream(ctx, http, jobs[0], p, kind), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    for job in jobs:
        await wait_until_done(ctx, job, http, timeout=ctx.settings.serve.sync_timeout_s)
        _check_done(job)
    data = []
    for job in jobs:
        for row in _rows(ctx, job):
            if p.response_format == "b64_json":
                encoded = await asyncio.to_thread(_encode, ctx, ctx.store.read(row.path), p)
                data.append(OpenAIImage(b64_json=base64.b64encode(encoded).decode(), revised_prompt=row.prompt))
            else:
                data.append(OpenAIImage(url=str(http.url_for("image_file", image_id=row.id)), revised_prompt=row.prompt))
    return OpenAIImagesResponse(created=int(time.time()), data=data, **_meta(ctx, p))


def _partial(ctx: ServiceContext, job: LiveJob, p: Resolved) -> str | None:
    """A partial image leaves the server as a final one does: through the output checks (None when withheld),
    then stamped (label, watermark, metadata, C2PA) at the delivered size, in the asked format."""
    guarded = ctx.generators[job.generator]
    preview = PILImage.open(io.BytesIO(base64.b64decode(job.previews[0].split(",", 1)[1]))).convert("RGB")
    if not guarded.output_guard.check(preview).allowed:
        return None
    request = job.request
    info = GenerationInfo(prompt=request.prompt, model_id=guarded.model_id, seed=request.seed or 0,
                          steps=job.step, guidance=request.guidance, sampler=request.sampler,
                          negative_prompt=request.negative_prompt, source=source_of(request),
                          strength=request.effective_strength if request.is_edit else None)
    return base64.b64encode(_encode(ctx, guarded.stamper.stamp(preview, info), p)).decode()


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _stream(ctx: ServiceContext, http: Request, job: LiveJob, p: Resolved, kind: str) -> AsyncIterator[str]:
    """Partial images at evenly spaced points of the denoising (image 0's current estimate), then each final image."""
    meta = _meta(ctx, p) | {"quality": p.quality}
    marks = [(i + 1) / (p.partial_images + 1) for i in range(p.partial_images)]
    sent, seen = 0, -1
    while not job.finished:
        await job.wait_change(seen, 10.0)
        if job.version == seen:
            yield ": keep-alive\n\n"
        seen = job.version
        if sent < len(marks) and job.previews and job.total and job.step / job.total >= marks[sent]:
            partial = await asyncio.to_thread(_partial, ctx, job, p)
            if partial is not None:
                yield _sse(f"{kind}.partial_image", {"type": f"{kind}.partial_image", "b64_json": partial,
                                                     "partial_image_index": sent, "created_at": int(time.time()),
                                                     **meta})
            sent += 1
        if await http.is_disconnected():
            ctx.worker.cancel(job)  # type: ignore[union-attr]
            return
    try:
        _check_done(job)
    except ApiError as err:
        yield _sse("error", err.body())
        return
    if sent == 0 and marks and job.previews:  # done before the first mark: still one partial, as asked
        partial = await asyncio.to_thread(_partial, ctx, job, p)
        if partial is not None:
            yield _sse(f"{kind}.partial_image", {"type": f"{kind}.partial_image", "b64_json": partial,
                                                 "partial_image_index": 0, "created_at": int(time.time()), **meta})
    for row in _rows(ctx, job):
        encoded = await asyncio.to_thread(_encode, ctx, ctx.store.read(row.path), p)
        yield _sse(f"{kind}.completed", {"type": f"{kind}.completed", "b64_json": base64.b64encode(encoded).decode(),
                                         "created_at": int(time.time()), **meta})
