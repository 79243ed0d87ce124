"""Opt-outs and deletions: each one appends an event to the platform's event log.

``imagine dataset apply-events`` consumes that log (the same one the demo platform writes), so a
request made here travels the same road as one made on the platform itself. The request is also
recorded in the database, so the owner's page can list it with its status (see ``status.py``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.orm import Session

from imagine.owners.posts import post_of_owner
from imagine.db.models_owners import OwnerRequest

# What an owner can ask for -> the platform event type it becomes.
REQUEST_KINDS = {
    "opt_out_account": "owner_opted_out",
    "opt_out_post": "post_opted_out",
    "delete_post": "post_deleted",
}


class OwnerRequestError(LookupError):
    """The post is not this owner's (or does not exist): the web layer answers 404 for both."""


def _append(events_path: Path, event: dict) -> None:
    from imagine.platform.schema import append_event

    append_event(Path(events_path), event)


def _record(
    session: Session, *, owner_id: str, user_id: str | None, event_type: str, post_id: str | None, events_path: Path
) -> OwnerRequest:
    now = datetime.now(timezone.utc)
    event = {
        "event_id": f"owner-{uuid.uuid4().hex}",
        "ts": now.isoformat().replace("+00:00", "Z"),
        "type": event_type,
        "owner_id": owner_id,
        "post_id": post_id,
    }
    # Event log first: if the database write then failed, the opt-out would still be honoured.
    _append(events_path, event)
    request = OwnerRequest(
        owner_id=owner_id, user_id=user_id, kind=event_type, post_id=post_id, event_id=event["event_id"], requested_at=now
    )
    session.add(request)
    session.commit()
    return request


def request_opt_out(
    session: Session,
    *,
    owner_id: str,
    platform_dir: Path,
    events_path: Path,
    post_id: str | None = None,
    user_id: str | None = None,
) -> OwnerRequest:
    """Opt the whole account (``post_id=None``) or one photo out of AI training."""
    if post_id is not None and post_of_owner(platform_dir, owner_id, post_id) is None:
        raise OwnerRequestError(post_id)
    event_type = REQUEST_KINDS["opt_out_account" if post_id is None else "opt_out_post"]
    return _record(session, owner_id=owner_id, user_id=user_id, event_type=event_type, post_id=post_id, events_path=events_path)


def request_delete(
    session: Session, *, owner_id: str, post_id: str, platform_dir: Path, events_path: Path, user_id: str | None = None
) -> OwnerRequest:
    """Delete one photo: it leaves every future dataset version and is purged from storage."""
    if post_of_owner(platform_dir, owner_id, post_id) is None:
        raise OwnerRequestError(post_id)
    return _record(
        session, owner_id=owner_id, user_id=user_id, event_type=REQUEST_KINDS["delete_post"], post_id=post_id, events_path=events_path
    )
