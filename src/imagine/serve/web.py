"""Server-rendered pages: one `render` that every page uses (theirs too), the nav registry and cookies.

Each page gets `user`, `csrf_token` (also set as the HttpOnly CSRF cookie when missing) and `nav`. Other
features add nav entries with `add_nav` and templates that `{% extends "base.html" %}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from imagine.serve import security

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    login_required: bool = True
    admin_only: bool = False
    order: int = 50


@dataclass(frozen=True)
class UserView:
    """What pages show of the current user: a plain snapshot, safe after the DB session has closed."""

    id: str
    email: str
    role: str

    @classmethod
    def of(cls, user: Any) -> "UserView | None":
        if user is None or isinstance(user, UserView):
            return user
        return cls(id=user.id, email=user.email, role=user.role)


def make_templates(extra_dirs: list[Path] | None = None) -> Jinja2Templates:
    return Jinja2Templates(directory=[TEMPLATES_DIR, *(extra_dirs or [])])


def add_nav(app_state: Any, item: NavItem) -> None:
    app_state.nav = sorted([*getattr(app_state, "nav", []), item], key=lambda n: (n.order, n.label))


def cookie_secure(request: Request) -> bool:
    setting = request.app.state.ctx.settings.serve.cookie_secure
    return request.url.scheme == "https" if setting is None else setting


def set_csrf_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(security.CSRF_COOKIE, token, httponly=True, samesite="strict", secure=cookie_secure(request),
                        path="/")


def set_session_cookie(request: Request, response: Response, token: str, *, days: int) -> None:
    response.set_cookie(security.SESSION_COOKIE, token, max_age=days * 86400, httponly=True, samesite="lax",
                        secure=cookie_secure(request), path="/")


def csrf_token_for(request: Request) -> str:
    """The token this page embeds: the browser's current one, or a new one (set by `render`)."""
    existing = getattr(request.state, "new_csrf", None) or request.cookies.get(security.CSRF_COOKIE)
    if existing:
        return existing
    request.state.new_csrf = security.new_token()
    return request.state.new_csrf


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    user = UserView.of(context.pop("user", getattr(request.state, "user", None)))
    # A page showing an error carries that error's headers (a 429's Retry-After) like its JSON twin would.
    headers = {**getattr(context.get("error"), "headers", {}), **(context.pop("headers", None) or {})}
    token = csrf_token_for(request)
    nav = [n for n in getattr(request.app.state, "nav", [])
           if (user is not None or not n.login_required) and (not n.admin_only or (user and user.role == "admin"))]
    templates: Jinja2Templates = request.app.state.ctx.templates
    response = templates.TemplateResponse(request, template, {"user": user, "csrf_token": token, "nav": nav,
                                                              **context}, status_code=status_code)
    if request.cookies.get(security.CSRF_COOKIE) != token:
        set_csrf_cookie(request, response, token)
    response.headers["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response.headers[name] = value
    return response
