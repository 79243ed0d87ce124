"""Images and the per-user gallery: metadata, the stamped PNG, delete. Others' images are 404."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from imagine.db.models import Image
from imagine.guard.provenance import OUTPUT_FORMATS, encode_as
from imagine.serve.deps import ApiUser, CtxDep, DbDep
from imagine.serve.livejob import DEFAULT_GENERATOR
from imagine.serve.errors import ErrorResponse
from imagine.serve.generation import image_public, owned_image
from imagine.serve.schemas import GalleryPage, ImagePublic

router = APIRouter(prefix="/api/v1", tags=["images"],
                   responses={c: {"model": ErrorResponse} for c in (401, 403, 404)})


@router.get("/gallery", response_model=GalleryPage, summary="Your images, newest first")
def gallery(user: ApiUser, db: DbDep, http: Request, limit: int = Query(24, ge=1, le=100),
            before: str | None = Query(None, max_length=32, description="An image id from `next_before`.")) -> GalleryPage:
    query = select(Image).where(Image.user_id == user.id)
    if before is not None:
        anchor = owned_image(db, user, before)
        query = query.where((Image.created_at < anchor.created_at)
                            | ((Image.created_at == anchor.created_at) & (Image.id < anchor.id)))
    rows = list(db.scalars(query.order_by(Image.created_at.desc(), Image.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return GalleryPage(images=[image_public(r, http) for r in rows], next_before=rows[-1].id if more else None)


@router.get("/images/{image_id}", response_model=ImagePublic, summary="One image's metadata")
def get_image(image_id: str, user: ApiUser, db: DbDep, http: Request) -> ImagePublic:
    return image_public(owned_image(db, user, image_id), http)


@router.get("/images/{image_id}/file", name="image_file", summary="The delivered image (with provenance)",
            response_class=Response,
            responses={200: {"content": {mime: {} for mime in OUTPUT_FORMATS.values()}}})
def image_file(image_id: str, user: ApiUser, db: DbDep, ctx: CtxDep,
               download: bool = Query(False, description="Ask the browser to save it."),
               format: Literal["png", "jpeg", "webp"] = Query("png", description="png: the stored file; jpeg/webp: "
                                                              "a signed C2PA transcode of it (as OpenAI output_format)."),
               quality: int = Query(100, ge=1, le=100, description="JPEG/WebP quality (100: WebP lossless).")) -> Response:
    row = owned_image(db, user, image_id)
    headers = {"Cache-Control": "private, max-age=86400"}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="imagine-{row.id}.{format}"'
    data = ctx.store.read(row.path)
    if format != "png":
        data = encode_as(data, format, quality, ctx.generators[DEFAULT_GENERATOR].stamper.signing)
    return Response(data, media_type=OUTPUT_FORMATS[format], headers=headers)


@router.delete("/images/{image_id}", status_code=204, summary="Delete an image (file and record)")
def delete_image(image_id: str, user: ApiUser, db: DbDep, ctx: CtxDep) -> Response:
    row = owned_image(db, user, image_id)
    ctx.store.delete(row.path)
    db.delete(row)
    return Response(status_code=204)
