"""Contesting a refusal: `POST /api/v1/policy/reports` (a thin adapter over ``guard.policy_reports``)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from imagine.guard.policy_reports import MAX_COMMENT, MAX_PROMPT, NotRefused, file_report
from imagine.serve.deps import ApiUser, CtxDep, DbDep
from imagine.serve.errors import ApiError, ErrorResponse
from imagine.serve.livejob import DEFAULT_GENERATOR

router = APIRouter(prefix="/api/v1/policy", tags=["policy"], responses={c: {"model": ErrorResponse} for c in (400, 401, 403)})


class ReportCreate(BaseModel):
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT, description="The refused prompt.")
    comment: str = Field("", max_length=MAX_COMMENT, description="Why the refusal was wrong (optional).")


class ReportPublic(BaseModel):
    id: str
    category: str
    code: str
    reason: str
    created_at: datetime


@router.post("/reports", response_model=ReportPublic, status_code=201, summary="Report a refusal as wrong")
def create_report(body: ReportCreate, user: ApiUser, db: DbDep, ctx: CtxDep) -> ReportPublic:
    guarded = ctx.generators.get(DEFAULT_GENERATOR)
    if guarded is None:
        raise ApiError("server_busy", "The service is still loading; try again shortly.", retry_after=5)
    try:
        report = file_report(db, guarded.policy, prompt=body.prompt, comment=body.comment, user_id=user.id)
    except (NotRefused, ValueError) as exc:
        raise ApiError("invalid_request", str(exc), param="prompt") from exc
    return ReportPublic(id=report.id, category=report.category, code=report.code, reason=report.reason,
                        created_at=report.created_at)
