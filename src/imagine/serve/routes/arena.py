"""The preference arena: two contestants draw the same prompt with the same seed, shown in random order; vote.

Contestants (``[owners] arena_contestants``) are settings of the served model (sampler, steps, guidance)
or another model folder (``model``). Both sides are ordinary jobs on the worker's queue, so each passes the
same region, rate-limit, prompt-policy and output checks and carries the same provenance as any other image
(it also lands in the gallery); another model is a second guarded generator, loaded once at start-up
(`on_startup`) and registered on the service context.
Rankings: Bradley–Terry with bootstrap intervals (``imagine.eval.arena``; docs/arena.md).
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from imagine.eval.arena import ArenaResult, Vote, plot_rankings, rank_votes
from imagine.db.models import User
from imagine.db.models_owners import ArenaBattle
from imagine.generate.requests import MAX_PROMPT_CHARS
from imagine.guarded import GuardedGenerator
from imagine.serve.context import ServiceContext
from imagine.serve.deps import ApiUser, CtxDep, DbDep, PageUser, require_csrf_form
from imagine.serve.errors import ApiError, validation_error
from imagine.serve.generation import admit, wait_until_done
from imagine.serve.livejob import DEFAULT_GENERATOR
from imagine.serve.schemas import STRICT, GenerateCreate
from imagine.serve.web import NavItem, render

router = APIRouter()
NAV = [NavItem("Arena", "/arena", order=50)]

OUTCOME_CHOICES = ("left", "right", "tie", "both_bad")
Text = Annotated[str, Form(max_length=1024)]


def contestants(ctx: ServiceContext) -> dict[str, dict]:
    """Configured contestants by name; at least two, each a valid setting of the served model."""
    items = ctx.settings.owners.arena_contestants
    out: dict[str, dict] = {}
    for item in items:
        name = item.get("name")
        if not name or name in out:
            raise ValueError(f"arena contestants need unique names, got {item!r}")
        out[name] = item
    if len(out) < 2:
        raise ValueError("the arena needs at least two contestants ([owners] arena_contestants)")
    return out


def _generate_body(prompt: str, seed: int, contestant: dict) -> GenerateCreate:
    """The contestant's generation request, validated like any API request (same error codes)."""
    try:
        return GenerateCreate(prompt=prompt, n=1, seed=seed, steps=contestant.get("steps"),
                              guidance=contestant.get("guidance"), sampler=contestant.get("sampler"))
    except ValidationError as exc:  # the same codes as any API request (control_characters, prompt_too_long, ...)
        raise validation_error(exc.errors()) from exc


def generator_name(name: str, contestant: dict) -> str:
    """The worker's generator for a contestant: its own model's, or the served model's."""
    return f"arena:{name}" if contestant.get("model") is not None else DEFAULT_GENERATOR


def on_startup(ctx: ServiceContext) -> None:
    """Register each contestant that is another model as a guarded generator of its own (loaded once, sharing
    the served model's policy, output guard, stamper and limits), so its side runs through the same queue."""
    served = ctx.generators[DEFAULT_GENERATOR]
    loaded: dict[Path, GuardedGenerator] = {}
    for name, contestant in contestants(ctx).items():
        if contestant.get("model") is None:
            continue
        path = Path(contestant["model"]).resolve()
        if path not in loaded:
            loaded[path] = GuardedGenerator.from_settings(
                ctx.settings, model=path, policy=served.policy, output_guard=served.output_guard,
                stamper=served.stamper, limits=served.limits)
        ctx.generators[generator_name(name, contestant)] = loaded[path]


async def create_battle(ctx: ServiceContext, http: Request, user: User, prompt: str) -> ArenaBattle:
    """Pick two contestants at random, queue both (same seed) through the guarded path, store the battle with
    a random left/right."""
    pool = contestants(ctx)
    rng = secrets.SystemRandom()
    left, right = rng.sample(sorted(pool), 2)  # a random pair in a random order
    seed = secrets.randbelow(2**31)
    jobs = []
    try:
        for name in (left, right):
            body = _generate_body(prompt, seed, pool[name])
            jobs.append(await admit(ctx, http, user, body, generator=generator_name(name, pool[name])))
        for job in jobs:
            await wait_until_done(ctx, job, http, timeout=ctx.settings.serve.sync_timeout_s)
    finally:  # a side that was refused, or a client that left, leaves nothing running
        for job in jobs:
            if not job.finished and ctx.worker is not None:
                ctx.worker.cancel(job)
    image_ids = []
    for job in jobs:
        if job.status != "succeeded" or not job.image_ids:
            if job.status == "succeeded":  # every image withheld by the output checks
                raise ApiError("generation_failed", "The image was withheld by the output checks; try another prompt.")
            raise ApiError(job.error_code if job.error_code in ("content_policy_violation", "server_busy") else "generation_failed",
                           job.error_message or "One of the two images could not be made; try another prompt.")
        image_ids.append(job.image_ids[0])
    battle = ArenaBattle(user_id=user.id, prompt=prompt, seed=seed, left=left, right=right,
                         left_image_id=image_ids[0], right_image_id=image_ids[1])

    def store() -> ArenaBattle:
        with ctx.sessions.begin() as db:
            db.add(battle)
        return battle

    return await asyncio.to_thread(store)


def owned_battle(db: Session, user: User, battle_id: str) -> ArenaBattle:
    row = db.get(ArenaBattle, battle_id)
    if row is None or row.user_id != user.id:
        raise ApiError("not_found", "No such battle.")
    return row


def cast_vote(db: Session, user: User, battle_id: str, outcome: str) -> ArenaBattle:
    """One vote per battle, by the user it was shown to."""
    if outcome not in OUTCOME_CHOICES:
        raise ApiError("invalid_request", f"outcome must be one of {', '.join(OUTCOME_CHOICES)}", param="outcome")
    row = owned_battle(db, user, battle_id)
    if row.outcome is not None:
        raise ApiError("invalid_request", "You already voted on this battle.")
    row.outcome, row.voted_at = outcome, datetime.now(timezone.utc)
    db.commit()
    return row


def results(ctx: ServiceContext, db: Session, *, bootstrap: int | None = None) -> ArenaResult:
    rows = db.execute(select(ArenaBattle.left, ArenaBattle.right, ArenaBattle.outcome)
                      .where(ArenaBattle.outcome.is_not(None))).all()
    votes = [Vote(left=a, right=b, outcome=o) for a, b, o in rows]
    return rank_votes(votes, bootstrap=ctx.settings.owners.arena_bootstrap if bootstrap is None else bootstrap)


# ---- pages ---------------------------------------------------------------------------------------


@router.get("/arena", include_in_schema=False)
def arena_page(request: Request, user: PageUser, ctx: CtxDep):
    return render(request, "arena.html", contestants=sorted(contestants(ctx)), max_prompt=ctx.settings.serve.max_prompt_chars)


@router.post("/arena", include_in_schema=False)
async def arena_start(request: Request, user: PageUser, ctx: CtxDep, csrf_token: Text,
                      prompt: Annotated[str, Form(min_length=1, max_length=1024)]):
    require_csrf_form(request, csrf_token)
    try:
        battle = await create_battle(ctx, request, user, prompt.strip())
    except ApiError as err:
        return render(request, "arena.html", contestants=sorted(contestants(ctx)), error=err, prompt=prompt,
                      max_prompt=ctx.settings.serve.max_prompt_chars, status_code=err.status, headers=err.headers)
    return RedirectResponse(f"/arena/battles/{battle.id}", status_code=303)


@router.get("/arena/battles/{battle_id}", include_in_schema=False)
def arena_battle_page(request: Request, battle_id: str, user: PageUser, db: DbDep):
    return render(request, "arena_battle.html", battle=owned_battle(db, user, battle_id))


@router.post("/arena/battles/{battle_id}/vote", include_in_schema=False)
def arena_vote_form(request: Request, battle_id: str, user: PageUser, db: DbDep, csrf_token: Text, outcome: Text):
    require_csrf_form(request, csrf_token)
    cast_vote(db, user, battle_id, outcome)
    return RedirectResponse("/arena/results?voted=1", status_code=303)


@router.get("/arena/results", include_in_schema=False)
def arena_results_page(request: Request, user: PageUser, db: DbDep, ctx: CtxDep):
    return render(request, "arena_results.html", result=results(ctx, db), voted=request.query_params.get("voted"))


@router.get("/arena/results.png", include_in_schema=False)
def arena_results_plot(user: PageUser, db: DbDep, ctx: CtxDep) -> Response:
    return Response(plot_rankings(results(ctx, db)), media_type="image/png", headers={"Cache-Control": "no-store"})


# ---- API -----------------------------------------------------------------------------------------


class BattleCreate(BaseModel):
    model_config = STRICT

    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)


class BattlePublic(BaseModel):
    """A battle as the voter sees it: contestant names are revealed only after the vote."""

    id: str
    prompt: str
    seed: int
    left_image_url: str | None
    right_image_url: str | None
    outcome: Literal["left", "right", "tie", "both_bad"] | None
    left: str | None = None
    right: str | None = None


class VoteBody(BaseModel):
    model_config = STRICT

    outcome: Literal["left", "right", "tie", "both_bad"]


def _public(row: ArenaBattle) -> BattlePublic:
    url = lambda image_id: f"/api/v1/images/{image_id}/file" if image_id else None  # noqa: E731
    voted = row.outcome is not None
    return BattlePublic(id=row.id, prompt=row.prompt, seed=row.seed, left_image_url=url(row.left_image_id),
                        right_image_url=url(row.right_image_id), outcome=row.outcome,
                        left=row.left if voted else None, right=row.right if voted else None)


@router.post("/api/arena/battles", tags=["arena"], response_model=BattlePublic, status_code=201,
             summary="Generate a battle: two contestants, same prompt and seed, random order")
async def api_create_battle(body: BattleCreate, http: Request, user: ApiUser, ctx: CtxDep) -> BattlePublic:
    return _public(await create_battle(ctx, http, user, body.prompt.strip()))


@router.get("/api/arena/battles/{battle_id}", tags=["arena"], response_model=BattlePublic, summary="One of your battles")
def api_get_battle(battle_id: str, user: ApiUser, db: DbDep) -> BattlePublic:
    return _public(owned_battle(db, user, battle_id))


@router.post("/api/arena/battles/{battle_id}/vote", tags=["arena"], response_model=BattlePublic,
             summary="Vote left / right / tie / both_bad (once per battle)")
def api_vote(battle_id: str, body: VoteBody, user: ApiUser, db: DbDep) -> BattlePublic:
    return _public(cast_vote(db, user, battle_id, body.outcome))


@router.get("/api/arena/results", tags=["arena"], summary="Bradley–Terry rankings with bootstrap intervals")
def api_results(user: ApiUser, db: DbDep, ctx: CtxDep) -> dict:
    return results(ctx, db).to_dict()


@router.get("/api/arena/results.png", tags=["arena"], summary="The rankings plot", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def api_results_plot(user: ApiUser, db: DbDep, ctx: CtxDep) -> Response:
    return Response(plot_rankings(results(ctx, db)), media_type="image/png", headers={"Cache-Control": "no-store"})
