"""Passwords, session tokens, API keys and CSRF tokens.

- Passwords: argon2id with OWASP's recommended parameters (m=19 MiB, t=2, p=1). A new password must be
  at least 8 characters and score at least 3 of 4 with `zxcvbn` (Dropbox's estimator: common-password and
  word lists, keyboard patterns, dates, repeats, and the account's own e-mail), so `password` or
  `12345678` is refused with zxcvbn's own explanation.
- Session tokens and API keys: 256 bits from `secrets`; only their sha256 is stored, so a leaked database
  does not let anyone log in. A slow hash is unnecessary for keys this long.
- CSRF: a per-browser random token in an HttpOnly cookie, echoed in each form (hidden field) or fetch
  (`X-CSRF-Token` header) and compared in constant time (double submit); rotated at log-in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16)
# Verified against when the account does not exist, so a missing account costs the same time (no enumeration).
_DUMMY_HASH = _HASHER.hash("not-a-real-password-" + secrets.token_hex(8))

API_KEY_PREFIX = "imk_"
SESSION_COOKIE = "imagine_session"
CSRF_COOKIE = "imagine_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
MIN_PASSWORD_CHARS = 8
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 = "safely unguessable", 4 = "very unguessable"
ZXCVBN_MAX_CHARS = 72  # zxcvbn's own input cap; a longer password is judged by its first 72 characters


def password_weakness(password: str, *, user_inputs: Sequence[str] = ()) -> str | None:
    """Why ``password`` is too easy to guess, in words, or None when it is strong enough."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"Use at least {MIN_PASSWORD_CHARS} characters."
    result = zxcvbn(password[:ZXCVBN_MAX_CHARS], user_inputs=list(user_inputs))
    if result["score"] >= MIN_PASSWORD_SCORE:
        return None
    feedback = result.get("feedback") or {}
    advice = " ".join(x for x in [feedback.get("warning") or "", *(feedback.get("suggestions") or [])] if x)
    return ("This password is too easy to guess" + (f": {advice}" if advice else ".")
            + ("" if advice.endswith(".") or not advice else "."))


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; always does one argon2 verification, even for unknown accounts."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """256 bits from the OS CSPRNG, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def csrf_matches(cookie_value: str | None, submitted: str | None) -> bool:
    if not cookie_value or not submitted:
        return False
    return hmac.compare_digest(cookie_value.encode(), submitted.encode())
