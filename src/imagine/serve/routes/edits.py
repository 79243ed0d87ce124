"""Native edits: `POST /api/v1/edits` (wait for the images) and `POST /api/v1/edits/jobs` (queue; follow
`GET /api/v1/jobs/{id}/events` as for generation), plus the web edit page `/edit`.

Multipart: the input is an uploaded `image` or one of your gallery images (`image_id`); `mask` is optional (a PNG
with alpha, transparent = edit, as OpenAI's); `variation=true` keeps the source's own prompt. Results land in the
gallery with `source_image_id` set when the input came from it.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from starlette.datastructures import UploadFile

from imagine.db.models import Image, Job
from imagine.generate.requests import MAX_GUIDANCE, MAX_IMAGES, MAX_SEED, MAX_STEPS
from imagine.serve.deps import ApiUser, CtxDep, DbDep, PageUser
from imagine.serve.edits import EditInput, edit_request, gallery_input, open_input, open_mask, variation_request
from imagine.serve.errors import ApiError, ErrorResponse, validation_error
from imagine.serve.generation import admit_request, image_public, job_public, owned_image, wait_until_done
from imagine.serve.livejob import LiveJob
from imagine.serve.schemas import GenerationPublic, JobPublic, NegativePrompt, SamplerName
from imagine.serve.web import NavItem, render

router = APIRouter(tags=["edits"], responses={c: {"model": ErrorResponse} for c in (400, 401, 403, 404, 413, 415,
                                                                                     429, 451, 503)})
NAV = [NavItem("Edit", "/edit", order=15)]


class EditCreate(BaseModel):
    """The fields of a native edit (besides the `image` / `mask` files)."""

    model_config = ConfigDict(extra="forbid")

    prompt: Annotated[str, Field(max_length=2000)] = ""
    image_id: Annotated[str, Field(max_length=32)] | None = None
    variation: bool = False
    strength: float | None = Field(default=None, gt=0.0, le=1.0, description="(0, 1]; 0.75 by default, 1 with a mask.")
    n: int = Field(default=1, ge=1, le=MAX_IMAGES)
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)
    steps: int | None = Field(default=None, ge=1, le=MAX_STEPS)
    guidance: float | None = Field(default=None, ge=0.0, le=MAX_GUIDANCE)
    negative_prompt: NegativePrompt | None = None
    sampler: SamplerName | None = None  # type: ignore[valid-type]


_FORM_DOC = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object",
    "properties": {"image": {"type": "string", "format": "binary", "description": "The input (or give image_id)."},
                   "mask": {"type": "string", "format": "binary", "description": "PNG with alpha; transparent = edit."},
                   **EditCreate.model_json_schema()["properties"]}}}}}}


async def _admit_edit(http: Request, user, ctx, db) -> tuple[LiveJob, EditInput]:  # noqa: ANN001
    if not http.headers.get("content-type", "").startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        raise ApiError("unsupported_media_type", "Send multipart/form-data (an image file or image_id, and fields).")
    form = await http.form(max_files=2, max_fields=32)
    files = {k: v for k, v in form.multi_items() if isinstance(v, UploadFile)}
    unknown = set(files) - {"image", "mask"}
    if unknown:
        raise ApiError("invalid_request", f"Unknown file parameter {sorted(unknown)[0]!r}; files: image, mask.",
                       param=sorted(unknown)[0])
    try:
        body = EditCreate.model_validate({k: v for k, v in form.multi_items() if not isinstance(v, UploadFile)})
    except ValidationError as exc:
        raise validation_error(exc.errors()) from exc
    cap = ctx.settings.serve.max_upload_bytes + 1
    if ("image" in files) == (body.image_id is not None):
        raise ApiError("invalid_request", "Give the input as an `image` file or an `image_id` from your gallery "
                       "(one of the two).", param="image")
    if body.image_id is not None:
        edit = await asyncio.to_thread(gallery_input, ctx, db, user, body.image_id)
    else:
        edit = await asyncio.to_thread(open_input, ctx, await files["image"].read(cap), filename=files["image"].filename)
    mask = None
    if "mask" in files:
        mask = await asyncio.to_thread(open_mask, ctx, await files["mask"].read(cap), edit)
    fields = {"n": body.n, "seed": body.seed, "steps": body.steps, "guidance": body.guidance,
              "negative_prompt": body.negative_prompt or None, "sampler": body.sampler}
    if body.variation:
        if body.prompt or mask is not None:
            raise ApiError("invalid_request", "A variation keeps the source's prompt and takes no mask.",
                           param="variation")
        request = variation_request(ctx, edit, **fields)
    else:
        if not body.prompt.strip():
            raise ApiError("invalid_request", "prompt: say what to change (or set variation=true).", param="prompt")
        request = edit_request(ctx, edit, prompt=body.prompt, mask=mask, strength=body.strength, **fields)
    extra = {"source_image_id": edit.source_image_id} if edit.source_image_id else {}
    return await admit_request(ctx, http, user, request, extra_params=extra), edit


@router.post("/api/v1/edits", response_model=GenerationPublic, summary="Edit an image and wait",
             openapi_extra=_FORM_DOC)
async def edit_sync(http: Request, user: ApiUser, ctx: CtxDep, db: DbDep) -> GenerationPublic:
    job, _ = await _admit_edit(http, user, ctx, db)
    await wait_until_done(ctx, job, http, timeout=ctx.settings.serve.sync_timeout_s)
    if job.status == "failed":
        raise ApiError("generation_failed", job.error_message or "The edit failed.")
    with ctx.sessions() as s:
        row = s.get(Job, job.id)
        images = list(s.scalars(select(Image).where(Image.job_id == job.id).order_by(Image.seed)))
        return GenerationPublic(job=job_public(row, job, [i.id for i in images]),
                                images=[image_public(i, http) for i in images])


@router.post("/api/v1/edits/jobs", response_model=JobPublic, status_code=202, summary="Queue an edit job",
             openapi_extra=_FORM_DOC)
async def edit_job(http: Request, user: ApiUser, ctx: CtxDep, db: DbDep) -> JobPublic:
    """Returns at once; follow `GET /api/v1/jobs/{id}/events` (SSE with previews) like a generation."""
    job, _ = await _admit_edit(http, user, ctx, db)
    with ctx.sessions() as s:
        return job_public(s.get(Job, job.id), job, [])


@router.get("/edit", include_in_schema=False)
def edit_page(request: Request, user: PageUser, db: DbDep, ctx: CtxDep,
              image: str | None = Query(None, max_length=32)):
    picked = owned_image(db, user, image) if image else None
    recent = list(db.scalars(select(Image).where(Image.user_id == user.id)
                             .order_by(Image.created_at.desc(), Image.id.desc()).limit(12)))
    return render(request, "edit.html", picked=picked, recent=recent, steps=ctx.settings.generate.steps,
                  max_prompt=ctx.settings.serve.max_prompt_chars)
