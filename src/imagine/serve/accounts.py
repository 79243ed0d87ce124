"""Users, log-in sessions and API keys: the library behind the sign-up/log-in pages and the keys page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from imagine.serve import security
from imagine.db.models import ApiKey, User, WebSession, utcnow
from imagine.serve.errors import ApiError

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{1,63}$")
MAX_PASSWORD_CHARS = 1024


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise ApiError("invalid_request", "Enter a valid e-mail address.", param="email")
    return email


def check_password_rules(password: str, *, email: str = "") -> None:
    """Length bounds and a minimum strength (``security.password_weakness``; the e-mail counts as guessable)."""
    if len(password) > MAX_PASSWORD_CHARS:
        raise ApiError("invalid_request", f"Use at most {MAX_PASSWORD_CHARS} characters.", param="password")
    weakness = security.password_weakness(password, user_inputs=[email, *email.split("@")] if email else [])
    if weakness is not None:
        raise ApiError("weak_password", weakness, param="password")


def create_user(db: Session, email: str, password: str, *, role: str = "user") -> User:
    """A new account; `email_taken` when the address is in use (sign-up must say so to be usable)."""
    if role not in ("user", "admin"):
        raise ValueError(f"unknown role {role!r}")
    email = normalise_email(email)
    check_password_rules(password, email=email)
    user = User(email=email, password_hash=security.hash_password(password), role=role)
    db.add(user)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise ApiError("email_taken", "An account with this e-mail already exists; log in instead.", param="email")
    return user


def authenticate(db: Session, email: str, password: str) -> User | None:
    """The user when the password matches; the same work and the same None for unknown accounts."""
    user = db.scalar(select(User).where(User.email == email.strip().lower()))
    ok = security.verify_password(user.password_hash if user else None, password[:MAX_PASSWORD_CHARS])
    return user if ok and user is not None else None


def start_session(db: Session, user: User, *, days: int) -> str:
    """A fresh session token (the cookie value); only its hash is stored."""
    token = security.new_token()
    db.add(WebSession(token_hash=security.token_hash(token), user_id=user.id,
                      expires_at=utcnow() + timedelta(days=days)))
    return token


def session_user(db: Session, token: str | None) -> User | None:
    if not token:
        return None
    row = db.get(WebSession, security.token_hash(token))
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=timezone.utc)
    if expires < datetime.now(timezone.utc):
        db.delete(row)
        return None
    return db.get(User, row.user_id)


def end_session(db: Session, token: str | None) -> None:
    if token:
        db.execute(delete(WebSession).where(WebSession.token_hash == security.token_hash(token)))


def create_api_key(db: Session, user: User, name: str) -> tuple[ApiKey, str]:
    """A new key row and the key itself (shown once)."""
    key = security.new_api_key()
    row = ApiKey(user_id=user.id, name=name.strip(), prefix=key[:10], key_hash=security.token_hash(key))
    db.add(row)
    db.flush()
    return row, key


def api_key_user(db: Session, key: str) -> User | None:
    row = db.scalar(select(ApiKey).where(ApiKey.key_hash == security.token_hash(key)))
    if row is None:
        return None
    now = utcnow()
    last = row.last_used_at.replace(tzinfo=timezone.utc) if row.last_used_at and not row.last_used_at.tzinfo else row.last_used_at
    if last is None or now - last > timedelta(minutes=1):  # one write a minute, not one per request
        row.last_used_at = now
    return db.get(User, row.user_id)


def list_api_keys(db: Session, user: User) -> list[ApiKey]:
    return list(db.scalars(select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.created_at.desc())))


def revoke_api_key(db: Session, user: User, key_id: str) -> None:
    row = db.get(ApiKey, key_id)
    if row is None or row.user_id != user.id:
        raise ApiError("not_found", "No such API key.")
    db.delete(row)
