"""The web app's own pages: create (prompt box, live grid), gallery with delete, API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from imagine.generate.samplers import SAMPLERS
from imagine.serve import accounts
from imagine.db.models import Image
from imagine.serve.deps import CtxDep, DbDep, OptionalUser, PageUser, require_csrf_form
from imagine.serve.errors import ApiError
from imagine.serve.generation import owned_image
from imagine.serve.web import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=1024)]


@router.get("/")
def create_page(request: Request, user: OptionalUser, ctx: CtxDep):
    gen, serve = ctx.settings.generate, ctx.settings.serve
    return render(request, "index.html", user=user, region_refusal=ctx.region.refusal(request),
                  defaults={"steps": gen.steps, "guidance": gen.guidance, "sampler": gen.sampler, "n": serve.max_n},
                  samplers=sorted(SAMPLERS), max_prompt=serve.max_prompt_chars, max_steps=serve.max_steps)


@router.get("/gallery")
def gallery_page(request: Request, user: PageUser, db: DbDep, page: int = 1):
    page = max(1, min(page, 10_000))
    per_page = 24
    rows = list(db.scalars(select(Image).where(Image.user_id == user.id)
                           .order_by(Image.created_at.desc(), Image.id.desc())
                           .offset((page - 1) * per_page).limit(per_page + 1)))
    return render(request, "gallery.html", images=rows[:per_page], page=page, more=len(rows) > per_page)


@router.post("/gallery/{image_id}/delete")
def gallery_delete(request: Request, image_id: str, user: PageUser, db: DbDep, ctx: CtxDep, csrf_token: Text):
    require_csrf_form(request, csrf_token)
    row = owned_image(db, user, image_id)
    ctx.store.delete(row.path)
    db.delete(row)
    return RedirectResponse("/gallery?deleted=1", status_code=303)


@router.get("/keys")
def keys_page(request: Request, user: PageUser, db: DbDep):
    return render(request, "keys.html", keys=accounts.list_api_keys(db, user))


@router.post("/keys")
def keys_create(request: Request, user: PageUser, db: DbDep, csrf_token: Text,
                name: Annotated[str, Form(max_length=100)] = "default"):
    require_csrf_form(request, csrf_token)
    if not name.strip() or any(ord(c) < 32 for c in name):
        raise ApiError("invalid_request", "Give the key a short name.", param="name")
    _row, key = accounts.create_api_key(db, user, name)
    return render(request, "keys.html", keys=accounts.list_api_keys(db, user), new_key=key, status_code=201)


@router.post("/keys/{key_id}/revoke")
def keys_revoke(request: Request, key_id: str, user: PageUser, db: DbDep, csrf_token: Text):
    require_csrf_form(request, csrf_token)
    accounts.revoke_api_key(db, user, key_id)
    return RedirectResponse("/keys", status_code=303)
