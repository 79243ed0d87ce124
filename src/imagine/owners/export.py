"""Everything the system holds about an owner, as one JSON document (a GDPR access request, Art. 15).

Sources: the platform export (profile, posts, events), every dataset decision about the owner's
posts in every committed version, revocation records, the models trained on versions that
included them, and, from the service database, the linked account, its requests, generation jobs
and arena votes. Images are listed by id and path, not embedded (the owner has the originals).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from imagine.owners.posts import owner_posts, owner_profile
from imagine.owners.status import decisions_of, photo_statuses, request_statuses, revocation_records
from imagine.db.models import Job, User
from imagine.db.models_owners import ArenaBattle, OwnerLink, OwnerRequest


def _events_of(events_path: Path, owner_id: str) -> list[dict]:
    from imagine.platform.schema import read_events

    if not Path(events_path).is_file():
        return []
    return [e for e in read_events(events_path) if e["owner_id"] == owner_id]


def export_owner(
    session: Session, *, owner_id: str, platform_dir: Path, dataset_dir: Path, registry: Path, events_path: Path
) -> dict[str, Any]:
    """The export document (plain JSON types after ``to_json``)."""
    posts = owner_posts(platform_dir, owner_id)
    post_ids = {p["post_id"] for p in posts}
    link = session.get(OwnerLink, owner_id)
    requests = session.scalars(select(OwnerRequest).where(OwnerRequest.owner_id == owner_id).order_by(OwnerRequest.requested_at)).all()
    account: dict[str, Any] | None = None
    if link is not None:
        user = session.get(User, link.user_id)
        jobs = session.scalars(select(Job).where(Job.user_id == link.user_id).order_by(Job.created_at)).all()
        battles = session.scalars(select(ArenaBattle).where(ArenaBattle.user_id == link.user_id).order_by(ArenaBattle.created_at)).all()
        account = {
            "user_id": link.user_id,
            "email": user.email if user else None,
            "role": user.role if user else None,
            "created_at": user.created_at if user else None,
            "owner_claimed_at": link.claimed_at,
            "generation_jobs": [
                {"id": j.id, "prompt": j.prompt, "status": j.status, "params": j.params, "created_at": j.created_at} for j in jobs
            ],
            "arena_votes": [
                {"id": b.id, "prompt": b.prompt, "left": b.left, "right": b.right, "outcome": b.outcome, "voted_at": b.voted_at}
                for b in battles
            ],
        }
    return {
        "format": "imagine-owner-export/1",
        "generated_at": datetime.now().astimezone(),
        "owner_id": owner_id,
        "profile": owner_profile(platform_dir, owner_id),
        "account": account,
        "posts": posts,
        "platform_events": _events_of(events_path, owner_id),
        "photo_status": [s.to_dict() for s in photo_statuses(posts, dataset_dir=dataset_dir, registry=registry)],
        "dataset_decisions": decisions_of(dataset_dir, sorted(post_ids)),
        "revocations": [r for pid, r in revocation_records(dataset_dir).items() if pid in post_ids],
        "requests": [s.to_dict() for s in request_statuses(list(requests), owner_posts=posts, dataset_dir=dataset_dir)],
    }


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, default=_default, indent=2, sort_keys=True)
