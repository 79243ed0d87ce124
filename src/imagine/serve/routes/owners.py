"""Photo owners' pages and API: claim an owner id, my photos, opt out, delete, export; "was this photo used?".

Every photo route checks that the post belongs to the owner linked to the caller; anything else,
including a post that does not exist, is the same 404, so ids reveal nothing.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from imagine.owners import ClaimError, OwnerRequestError, claim_owner, linked_owner, request_delete, request_opt_out
from imagine.owners.export import export_owner, to_json
from imagine.owners.paths import OwnerPaths
from imagine.owners.posts import owner_posts, post_of_owner
from imagine.owners.status import photo_statuses, request_statuses
from imagine.owners.used import was_this_used
from imagine.serve.context import ServiceContext
from imagine.db.models import User
from imagine.db.models_owners import OwnerRequest
from imagine.serve.deps import ApiUser, CtxDep, DbDep, PageUser, client_ip, require_csrf_form
from imagine.images import ImageRejected
from imagine.serve.errors import ApiError, image_error
from imagine.serve.schemas import STRICT
from imagine.serve.web import NavItem, render

router = APIRouter()
NAV = [NavItem("My photos", "/owners", order=40), NavItem("Was this photo used?", "/used", order=45)]

Text = Annotated[str, Form(max_length=1024)]


def _paths(ctx: ServiceContext) -> OwnerPaths:
    return OwnerPaths.from_settings(ctx.settings)


def _owner_of(db: Session, user: User) -> str:
    owner_id = linked_owner(db, user.id)
    if owner_id is None:
        raise ApiError("not_found", "This account is not linked to a photo owner; claim one first.")
    return owner_id


def _owned_post(ctx: ServiceContext, db: Session, user: User, post_id: str) -> tuple[str, dict]:
    owner_id = _owner_of(db, user)
    post = post_of_owner(_paths(ctx).platform_dir, owner_id, post_id)
    if post is None:
        raise ApiError("not_found", "No such photo.")
    return owner_id, post


def _overview(ctx: ServiceContext, db: Session, owner_id: str) -> dict:
    paths = _paths(ctx)
    posts = owner_posts(paths.platform_dir, owner_id)
    requests = db.scalars(select(OwnerRequest).where(OwnerRequest.owner_id == owner_id).order_by(OwnerRequest.requested_at)).all()
    return {
        "owner_id": owner_id,
        "photos": photo_statuses(posts, dataset_dir=paths.dataset_dir, registry=paths.registry),
        "requests": request_statuses(list(requests), owner_posts=posts, dataset_dir=paths.dataset_dir),
    }


def _claim(ctx: ServiceContext, db: Session, user: User, code: str, ip: str) -> str:
    ctx.limiter.check_claim(user_id=user.id, ip=ip)
    try:
        return claim_owner(db, user_id=user.id, code=code, code_hashes_path=_paths(ctx).claim_code_hashes).owner_id
    except ClaimError as exc:
        if exc.code == "invalid_code":  # the one message for every wrong code; each one counts
            ctx.limiter.failed_claim(user_id=user.id, ip=ip)
        raise ApiError("invalid_request", str(exc), param="code") from exc
    except FileNotFoundError as exc:  # no platform export yet: nothing can be claimed
        raise ApiError("invalid_request", "There are no photo owners to claim on this server yet.", param="code") from exc


def _act(ctx: ServiceContext, db: Session, user: User, action: str, post_id: str | None) -> OwnerRequest:
    owner_id = _owner_of(db, user)
    paths = _paths(ctx)
    common = {"owner_id": owner_id, "platform_dir": paths.platform_dir, "events_path": paths.events, "user_id": user.id}
    try:
        if action == "delete":
            return request_delete(db, post_id=post_id, **common)
        return request_opt_out(db, post_id=post_id, **common)
    except OwnerRequestError as exc:
        raise ApiError("not_found", "No such photo.") from exc


def _used(ctx: ServiceContext, db: Session, user: User, data: bytes, ip: str) -> dict:
    ctx.limiter.hit_upload(user_id=user.id, ip=ip)
    if not data:
        raise ApiError("invalid_request", "Choose an image file to look up.", param="image")
    paths, serve = _paths(ctx), ctx.settings.serve
    try:
        answer = was_this_used(paths.dataset_dir, data, registry=paths.registry, asking_owner=linked_owner(db, user.id),
                               max_pixels=serve.max_upload_pixels, max_bytes=serve.max_upload_bytes)
    except ImageRejected as exc:  # refused from its header: too many pixels, not an allowed format, too large
        raise image_error(exc) from exc
    except FileNotFoundError as exc:
        raise ApiError("invalid_request", "No dataset has been built yet, so no photo has been used.") from exc
    return answer.to_dict()


# ---- pages ---------------------------------------------------------------------------------------


@router.get("/owners", include_in_schema=False)
def owners_page(request: Request, user: PageUser, db: DbDep, ctx: CtxDep):
    owner_id = linked_owner(db, user.id)
    if owner_id is None:
        return render(request, "owners_claim.html")
    return render(request, "owners.html", **_overview(ctx, db, owner_id), done=request.query_params.get("done"))


@router.post("/owners/claim", include_in_schema=False)
def owners_claim(request: Request, user: PageUser, db: DbDep, ctx: CtxDep, csrf_token: Text, code: Text):
    require_csrf_form(request, csrf_token)
    try:
        _claim(ctx, db, user, code, client_ip(request))
    except ApiError as err:
        return render(request, "owners_claim.html", error=err, status_code=err.status)
    return RedirectResponse("/owners?done=claimed", status_code=303)


@router.post("/owners/opt-out", include_in_schema=False)
def owners_opt_out_account(request: Request, user: PageUser, db: DbDep, ctx: CtxDep, csrf_token: Text):
    require_csrf_form(request, csrf_token)
    _act(ctx, db, user, "opt_out", None)
    return RedirectResponse("/owners?done=opted_out", status_code=303)


@router.get("/owners/photos/{post_id}", include_in_schema=False)
def owners_photo_page(request: Request, post_id: str, user: PageUser, db: DbDep, ctx: CtxDep):
    owner_id, _post = _owned_post(ctx, db, user, post_id)
    overview = _overview(ctx, db, owner_id)
    photo = next(p for p in overview["photos"] if p.post_id == post_id)
    requests = [r for r in overview["requests"] if r.post_id in (post_id, None)]
    return render(request, "owners_photo.html", photo=photo, requests=requests, done=request.query_params.get("done"))


@router.get("/owners/photos/{post_id}/image", include_in_schema=False)
def owners_photo_image(post_id: str, user: PageUser, db: DbDep, ctx: CtxDep):
    _owner_id, post = _owned_post(ctx, db, user, post_id)
    uri = post["image_uri"]
    path = Path(uri) if Path(uri).is_absolute() else _paths(ctx).platform_dir / uri
    if "://" in uri or not path.is_file():
        raise ApiError("not_found", "The original file is no longer on the platform.")
    return FileResponse(path, headers={"Cache-Control": "private, max-age=3600"})


@router.post("/owners/photos/{post_id}/{action}", include_in_schema=False)
def owners_photo_action(request: Request, post_id: str, action: str, user: PageUser, db: DbDep, ctx: CtxDep, csrf_token: Text):
    require_csrf_form(request, csrf_token)
    if action not in ("opt-out", "delete"):
        raise ApiError("not_found", "No such action.")
    _act(ctx, db, user, "delete" if action == "delete" else "opt_out", post_id)
    return RedirectResponse(f"/owners/photos/{post_id}?done={action}", status_code=303)


@router.get("/owners/export", include_in_schema=False)
def owners_export_download(user: PageUser, db: DbDep, ctx: CtxDep):
    return _export_response(ctx, db, user)


@router.get("/used", include_in_schema=False)
def used_page(request: Request, user: PageUser):
    return render(request, "owners_used.html")


@router.post("/used", include_in_schema=False)
async def used_lookup(request: Request, user: PageUser, db: DbDep, ctx: CtxDep, csrf_token: Text,
                      image: Annotated[UploadFile, File()]):
    require_csrf_form(request, csrf_token)
    data = await image.read(ctx.settings.serve.max_upload_bytes + 1)
    try:
        answer = await asyncio.to_thread(_used, ctx, db, user, data, client_ip(request))
    except ApiError as err:
        return render(request, "owners_used.html", error=err, status_code=err.status)
    return render(request, "owners_used.html", answer=answer, filename=image.filename)


# ---- API -----------------------------------------------------------------------------------------


class ClaimBody(BaseModel):
    model_config = STRICT

    code: str = Field(min_length=1, max_length=200)


class ActionBody(BaseModel):
    model_config = STRICT

    action: str = Field(pattern="^(opt_out|delete)$")


def _export_response(ctx: ServiceContext, db: Session, user: User) -> Response:
    owner_id = _owner_of(db, user)
    paths = _paths(ctx)
    document = export_owner(db, owner_id=owner_id, platform_dir=paths.platform_dir, dataset_dir=paths.dataset_dir,
                            registry=paths.registry, events_path=paths.events)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d")
    return Response(to_json(document), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="imagine-owner-{owner_id}-{stamp}.json"',
                             "Cache-Control": "no-store"})


def _json(value) -> Response:  # noqa: ANN001 - plain data with datetimes
    return Response(to_json(value), media_type="application/json")


@router.post("/api/owners/claim", tags=["owners"], summary="Link your account to a photo owner with a one-time code")
def api_claim(request: Request, body: ClaimBody, user: ApiUser, db: DbDep, ctx: CtxDep) -> dict:
    return {"owner_id": _claim(ctx, db, user, body.code, client_ip(request))}


@router.get("/api/owners/me", tags=["owners"], summary="Your photos' status and your requests")
def api_me(user: ApiUser, db: DbDep, ctx: CtxDep) -> Response:
    overview = _overview(ctx, db, _owner_of(db, user))
    return _json({"owner_id": overview["owner_id"], "photos": [p.to_dict() for p in overview["photos"]],
                  "requests": [r.to_dict() for r in overview["requests"]]})


@router.post("/api/owners/me/opt-out", tags=["owners"], summary="Opt your whole account out of AI training")
def api_opt_out(user: ApiUser, db: DbDep, ctx: CtxDep) -> dict:
    req = _act(ctx, db, user, "opt_out", None)
    return {"event_id": req.event_id, "kind": req.kind, "status": "pending"}


@router.post("/api/owners/me/photos/{post_id}", tags=["owners"], summary="Opt one photo out, or delete it")
def api_photo_action(post_id: str, body: ActionBody, user: ApiUser, db: DbDep, ctx: CtxDep) -> dict:
    req = _act(ctx, db, user, body.action, post_id)
    return {"event_id": req.event_id, "kind": req.kind, "post_id": post_id, "status": "pending"}


@router.get("/api/owners/me/export", tags=["owners"], summary="Everything held about you (JSON, GDPR access)")
def api_export(user: ApiUser, db: DbDep, ctx: CtxDep) -> Response:
    return _export_response(ctx, db, user)


@router.post("/api/used", tags=["owners"], summary="Was this photo used? Match an image against every dataset version")
async def api_used(request: Request, user: ApiUser, db: DbDep, ctx: CtxDep, image: Annotated[UploadFile, File()]) -> dict:
    data = await image.read(ctx.settings.serve.max_upload_bytes + 1)
    return await asyncio.to_thread(_used, ctx, db, user, data, client_ip(request))
