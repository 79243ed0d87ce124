"""Linking a platform account to a photo owner id with a one-time claim code.

The demo platform issues one random code per owner (``imagine.platform.claim_codes``); the service reads
only their SHA-256 hashes (``claim_code_hashes.json``). A real platform would link accounts through its own
login instead (OAuth/OIDC, see docs/owners.md). A code is single-use: the link row stores its hash under a
unique constraint, so a second claim fails even in a race.

Every failure about the code itself (unknown, already used, lost a race) is the same ``invalid_code`` with the
same message, so answers never tell a used code from one that never existed; the service also throttles wrong
codes per account and per IP. ``already_linked`` is decided before the code is looked at, so it tells nothing
about codes.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from imagine.db.models_owners import OwnerLink
from imagine.platform.claim_codes import code_hash, load_code_hashes

INVALID_CODE_MESSAGE = "This claim code is not valid, or it has already been used."


class ClaimError(ValueError):
    """A claim was refused; ``code`` is a stable machine-readable reason (``invalid_code``, ``already_linked``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def claim_owner(session: Session, *, user_id: str, code: str, code_hashes_path: Path) -> OwnerLink:
    """Link ``user_id`` to the owner the one-time ``code`` belongs to; the code is consumed.

    ``code_hashes_path`` is the ``claim_code_hashes.json`` written by ``imagine platform demo``.
    """
    if session.scalar(select(OwnerLink).where(OwnerLink.user_id == user_id)) is not None:
        raise ClaimError("already_linked", "This account is already linked to a photo owner.")
    if not code.strip():
        raise ClaimError("invalid_code", INVALID_CODE_MESSAGE)
    digest = code_hash(code)
    owner_id = load_code_hashes(code_hashes_path).get(digest)  # a lookup by hash: timing tells nothing of the code
    # The link table is read for unknown codes too, so a used code does not answer measurably slower than a wrong one.
    used = session.get(OwnerLink, owner_id if owner_id is not None else "") is not None
    if owner_id is None or used:
        raise ClaimError("invalid_code", INVALID_CODE_MESSAGE)
    link = OwnerLink(owner_id=owner_id, user_id=user_id, code_sha256=digest)
    session.add(link)
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent claim of the same code or by the same account won
        session.rollback()
        raise ClaimError("invalid_code", INVALID_CODE_MESSAGE) from exc
    return link


def linked_owner(session: Session, user_id: str) -> str | None:
    """The owner id linked to this account, or None."""
    return session.scalar(select(OwnerLink.owner_id).where(OwnerLink.user_id == user_id))
