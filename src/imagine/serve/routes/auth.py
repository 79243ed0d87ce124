"""Sign-up, log-in and log-out: one short form each. Sessions rotate at log-in; failures are slowed down
(per (account, IP) pair and per IP: `ratelimit.py`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from imagine.serve import accounts, security
from imagine.serve.deps import CtxDep, DbDep, OptionalUser, client_ip, require_csrf_form
from imagine.serve.errors import ApiError
from imagine.serve.web import render, set_csrf_cookie, set_session_cookie

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=1024)]


def _safe_next(next_url: str | None) -> str:
    """Only same-site paths, never `//host` or absolute URLs (no open redirect)."""
    if next_url and next_url.startswith("/") and not next_url.startswith("//") and "\\" not in next_url:
        return next_url
    return "/"


def _logged_in(request: Request, db, user, ctx, next_url: str) -> RedirectResponse:  # noqa: ANN001
    accounts.end_session(db, request.cookies.get(security.SESSION_COOKIE))  # rotate: the old token dies
    token = accounts.start_session(db, user, days=ctx.settings.serve.session_days)
    response = RedirectResponse(_safe_next(next_url), status_code=303)
    set_session_cookie(request, response, token, days=ctx.settings.serve.session_days)
    set_csrf_cookie(request, response, security.new_token())
    return response


@router.get("/signup")
def signup_page(request: Request, user: OptionalUser):
    return render(request, "signup.html", user=user)


@router.post("/signup")
def signup(request: Request, db: DbDep, ctx: CtxDep, email: Text, password: Text, csrf_token: Text,
           next: Annotated[str, Form(max_length=512)] = "/"):
    require_csrf_form(request, csrf_token)
    account, ip = email.strip().lower(), client_ip(request)
    try:
        ctx.limiter.check_signup(email=account, ip=ip)
        user = accounts.create_user(db, email, password)
    except ApiError as err:
        if err.code == "email_taken":  # the only failure that tells anything (whether an e-mail has an account)
            ctx.limiter.failed_signup(email=account, ip=ip)
        return render(request, "signup.html", status_code=err.status, error=err, email=email, user=None)
    return _logged_in(request, db, user, ctx, next)


@router.get("/login")
def login_page(request: Request, user: OptionalUser, next: str = "/"):
    return render(request, "login.html", user=user, next=_safe_next(next))


@router.post("/login")
def login(request: Request, db: DbDep, ctx: CtxDep, email: Text, password: Text, csrf_token: Text,
          next: Annotated[str, Form(max_length=512)] = "/"):
    require_csrf_form(request, csrf_token)
    account, ip = email.strip().lower(), client_ip(request)
    try:
        ctx.limiter.check_login(account=account, ip=ip)
        user = accounts.authenticate(db, email, password)
        if user is None:
            ctx.limiter.failed_login(account=account, ip=ip)
            raise ApiError("invalid_credentials", "The e-mail or the password is wrong.")
    except ApiError as err:
        return render(request, "login.html", status_code=err.status, error=err, email=email, next=_safe_next(next),
                      user=None)
    return _logged_in(request, db, user, ctx, next)


@router.post("/logout")
def logout(request: Request, db: DbDep, csrf_token: Text):
    require_csrf_form(request, csrf_token)
    accounts.end_session(db, request.cookies.get(security.SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(security.SESSION_COOKIE, path="/")
    set_csrf_cookie(request, response, security.new_token())
    return response
