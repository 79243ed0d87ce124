"""OpenAI-compatible `POST /v1/images/generations`, so the official `openai` client works with `base_url` at us.

`size` must be the delivered size (`WxH`, see `GuardSettings.delivered_size`); `url` results point at
`/api/v1/images/{id}/file`, fetched with the same bearer key. Refusals are HTTP 400 with
`code: content_policy_violation`, as OpenAI answers them.
"""

from __future__ import annotations

import base64
import time

from fastapi import APIRouter, Request
from sqlalchemy import select

from imagine.db.models import Image
from imagine.serve.deps import ApiUser, CtxDep
from imagine.serve.errors import ApiError, ErrorResponse
from imagine.serve.generation import admit, wait_until_done
from imagine.serve.schemas import GenerateCreate, OpenAIImage, OpenAIImageCreate, OpenAIImagesResponse

router = APIRouter(prefix="/v1", tags=["openai-compatible"],
                   responses={c: {"model": ErrorResponse} for c in (400, 401, 403, 413, 429, 451, 503)})


@router.post("/images/generations", response_model=OpenAIImagesResponse, response_model_exclude_none=True,
             summary="Create images (OpenAI Images API)")
async def create_images(body: OpenAIImageCreate, http: Request, user: ApiUser, ctx: CtxDep) -> OpenAIImagesResponse:
    side = ctx.settings.guard.delivered_size
    if body.size not in (None, "auto", f"{side}x{side}"):
        raise ApiError("invalid_size", f"size must be '{side}x{side}' (the delivered size); got {body.size!r}.",
                       param="size")
    job = await admit(ctx, http, user, GenerateCreate(prompt=body.prompt, n=body.n, seed=body.seed,
                                                      negative_prompt=body.negative_prompt))
    await wait_until_done(ctx, job, http, timeout=ctx.settings.serve.sync_timeout_s)
    if job.status != "succeeded":
        raise ApiError("generation_failed", job.error_message or f"Generation {job.status}.")
    if job.blocked and not job.image_ids:
        raise ApiError("content_policy_violation", "Every generated image was withheld by the output guard.",
                       category="output", reason="withheld by the output checks")
    with ctx.sessions() as db:
        rows = list(db.scalars(select(Image).where(Image.job_id == job.id).order_by(Image.seed)))
    data = []
    for row in rows:
        if body.response_format == "b64_json":
            data.append(OpenAIImage(b64_json=base64.b64encode(ctx.store.read(row.path)).decode(),
                                    revised_prompt=row.prompt))
        else:
            data.append(OpenAIImage(url=str(http.url_for("image_file", image_id=row.id)), revised_prompt=row.prompt))
    return OpenAIImagesResponse(created=int(time.time()), data=data)
