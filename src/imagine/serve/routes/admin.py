"""Operator views (admin role only; anyone else gets 404): dataset versions and diffs, model cards with
revocations since training and a "retrain due" flag, revocation timing, refusals over time, eval results.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from imagine.guard.policy_reports import recent_reports, reports_by_code
from imagine.owners import operator
from imagine.owners.paths import OwnerPaths
from imagine.serve.context import ServiceContext
from imagine.db.models import User
from imagine.db.models_owners import Refusal
from imagine.serve.deps import ApiUser, CtxDep, DbDep, PageUser
from imagine.serve.errors import ApiError
from imagine.serve.web import NavItem, render

router = APIRouter()
NAV = [NavItem("Operators", "/admin", admin_only=True, order=90)]

REFUSAL_DAYS = 30


def _require_admin(user: User) -> None:
    if user.role != "admin":
        raise ApiError("not_found", "Not found.")


def overview(ctx: ServiceContext, db: Session) -> dict:
    paths = OwnerPaths.from_settings(ctx.settings)
    since = datetime.now(timezone.utc) - timedelta(days=REFUSAL_DAYS)
    refusals = db.execute(select(Refusal.created_at, Refusal.category).where(Refusal.created_at >= since)).all()
    reports = recent_reports(db, since)
    data: dict = {"dataset_dir": str(paths.dataset_dir), "versions": [], "models": [], "timing": None,
                  "refusals_by_day": operator.refusals_by_day([(ts, c) for ts, c in refusals]),
                  "reports_by_code": reports_by_code(reports),
                  "reports": [{"id": r.id, "created_at": r.created_at.isoformat(), "category": r.category, "code": r.code,
                               "prompt": r.prompt, "reason": r.reason, "comment": r.comment} for r in reports],
                  "retrain_deadline_days": ctx.settings.owners.retrain_deadline_days}
    if (paths.dataset_dir / "versions.json").is_file():
        data["versions"] = operator.dataset_versions(paths.dataset_dir)
        data["models"] = operator.model_rows(paths.dataset_dir, paths.registry,
                                             deadline_days=ctx.settings.owners.retrain_deadline_days)
        data["timing"] = operator.revocation_timing(paths.dataset_dir, paths.events)
    return data


def _diff(ctx: ServiceContext, a: int, b: int) -> operator.VersionDiff:
    try:
        return operator.diff_versions(OwnerPaths.from_settings(ctx.settings).dataset_dir, a, b)
    except (ValueError, FileNotFoundError) as exc:
        raise ApiError("invalid_request", str(exc)) from exc


@router.get("/admin", include_in_schema=False)
def admin_page(request: Request, user: PageUser, db: DbDep, ctx: CtxDep):
    _require_admin(user)
    return render(request, "admin.html", **overview(ctx, db))


@router.get("/admin/diff", include_in_schema=False)
def admin_diff_page(request: Request, user: PageUser, ctx: CtxDep, a: int = Query(...), b: int = Query(...)):
    _require_admin(user)
    return render(request, "admin_diff.html", diff=_diff(ctx, a, b))


@router.get("/admin/purge-times.png", include_in_schema=False)
def admin_purge_plot(user: PageUser, ctx: CtxDep) -> Response:
    _require_admin(user)
    paths = OwnerPaths.from_settings(ctx.settings)
    hours = operator.revocation_timing(paths.dataset_dir, paths.events).purge_hours if (paths.dataset_dir / "versions.json").is_file() else []
    return Response(operator.purge_histogram_png(hours), media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get("/api/admin/overview", tags=["admin"], summary="Operator overview (admin role)")
def api_overview(user: ApiUser, db: DbDep, ctx: CtxDep) -> Response:
    _require_admin(user)
    data = overview(ctx, db)
    data["versions"] = [operator.as_dict(v) for v in data["versions"]]
    data["models"] = [operator.as_dict(m) for m in data["models"]]
    data["timing"] = operator.as_dict(data["timing"]) if data["timing"] is not None else None
    return Response(json.dumps(data, default=str), media_type="application/json")


@router.get("/api/admin/diff", tags=["admin"], summary="Posts that entered or left the training set between two versions")
def api_diff(user: ApiUser, ctx: CtxDep, a: int = Query(...), b: int = Query(...)) -> dict:
    _require_admin(user)
    return operator.as_dict(_diff(ctx, a, b))
