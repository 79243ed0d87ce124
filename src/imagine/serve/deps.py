"""FastAPI dependencies as `Annotated` aliases: `DbDep`, `CtxDep`, `ApiUser`, `PageUser`, `OptionalUser`.

Authentication: a bearer API key (`Authorization: Bearer imk_...`) or the session cookie. A cookie-authenticated
request that changes state must also carry the CSRF token (header `X-CSRF-Token`, or the form field checked by
`require_csrf_form`); bearer requests need none, since browsers never attach them on their own.
"""

from __future__ import annotations

from typing import Annotated, Iterator

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from imagine.serve import accounts, security
from imagine.serve.context import ServiceContext
from imagine.db.models import User
from imagine.serve.errors import ApiError
from imagine.serve.web import UserView

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    """A page needs a logged-in user: answered with a redirect to the log-in page."""


def get_ctx(request: Request) -> ServiceContext:
    return request.app.state.ctx


CtxDep = Annotated[ServiceContext, Depends(get_ctx)]


def get_db(ctx: CtxDep) -> Iterator[Session]:
    with ctx.sessions() as db:
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise


# scope="function": commit before the response is sent, so a client's next request sees the write.
DbDep = Annotated[Session, Depends(get_db, scope="function")]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def optional_user(request: Request, db: DbDep) -> User | None:
    """The user behind the session cookie (pages) — bearer keys are for the API only."""
    user = accounts.session_user(db, request.cookies.get(security.SESSION_COOKIE))
    request.state.user = UserView.of(user)
    return user


def api_user(request: Request, ctx: CtxDep) -> User:
    """Bearer key or session cookie (+ CSRF for changes). Uses its own short session, so a long generation
    does not hold a database connection (or SQLite's write lock) while it waits."""
    with ctx.sessions() as db:
        key = _bearer(request)
        if key is not None:
            user = accounts.api_key_user(db, key)
            db.commit()
            if user is None:
                raise ApiError("invalid_api_key", "The API key is not valid; create one on the API keys page.")
        else:
            user = accounts.session_user(db, request.cookies.get(security.SESSION_COOKIE))
            db.commit()
            if user is None:
                raise ApiError("authentication_required",
                               "Log in, or send an API key as `Authorization: Bearer <key>`.")
            if request.method not in SAFE_METHODS and not security.csrf_matches(
                    request.cookies.get(security.CSRF_COOKIE), request.headers.get(security.CSRF_HEADER)):
                raise ApiError("csrf_failed", "Missing or wrong CSRF token; reload the page and try again.")
        request.state.user = UserView.of(user)
        return user  # detached but loaded (expire_on_commit=False): callers use its id, email and role


def page_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise LoginRequired()
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
ApiUser = Annotated[User, Depends(api_user)]
PageUser = Annotated[User, Depends(page_user)]


def require_csrf_form(request: Request, submitted: str | None) -> None:
    """For HTML form posts: the hidden field must match the CSRF cookie."""
    if not security.csrf_matches(request.cookies.get(security.CSRF_COOKIE), submitted):
        raise ApiError("csrf_failed", "The form expired or did not come from this site; reload the page and try again.")
