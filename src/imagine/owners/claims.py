"""Linking a platform account to a photo owner id with a one-time claim code.

The demo platform prints one code per owner (``claim_codes.json``); a real platform would link
accounts through its own login instead (OAuth/OIDC, see docs/owners.md). A code is single-use:
the link row stores its sha256 under a unique constraint, so a second claim fails even in a race.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from imagine.db.models_owners import OwnerLink


class ClaimError(ValueError):
    """A claim was refused; ``code`` is a stable machine-readable reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def load_claim_codes(path: Path) -> dict[str, str]:
    """``{owner_id: code}`` from the file written by ``imagine platform demo``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no claim codes at {path}; run `imagine platform demo` first")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object {{owner_id: code}}")
    return {str(k): str(v) for k, v in data.items()}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _owner_for_code(codes: dict[str, str], code: str) -> str | None:
    """The owner whose code this is; every code is compared in constant time, so timing leaks nothing."""
    found = None
    for owner_id, expected in codes.items():
        if hmac.compare_digest(expected.encode("utf-8"), code.encode("utf-8")):
            found = owner_id
    return found


def claim_owner(session: Session, *, user_id: str, code: str, claim_codes_path: Path) -> OwnerLink:
    """Link ``user_id`` to the owner the one-time ``code`` belongs to; the code is consumed."""
    code = code.strip()
    if not code:
        raise ClaimError("invalid_code", "enter the claim code printed by `imagine platform demo`")
    owner_id = _owner_for_code(load_claim_codes(claim_codes_path), code)
    if owner_id is None:
        raise ClaimError("invalid_code", "this claim code is not valid")
    if session.scalar(select(OwnerLink).where(OwnerLink.user_id == user_id)) is not None:
        raise ClaimError("already_linked", "this account is already linked to a photo owner")
    if session.get(OwnerLink, owner_id) is not None:
        raise ClaimError("code_used", "this claim code has already been used")
    link = OwnerLink(owner_id=owner_id, user_id=user_id, code_sha256=_sha256(code))
    session.add(link)
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent claim of the same code or by the same account won
        session.rollback()
        raise ClaimError("code_used", "this claim code has already been used") from exc
    return link


def linked_owner(session: Session, user_id: str) -> str | None:
    """The owner id linked to this account, or None."""
    return session.scalar(select(OwnerLink.owner_id).where(OwnerLink.user_id == user_id))
