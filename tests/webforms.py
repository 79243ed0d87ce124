"""Accounts through the real web forms: shared by the serve and owners tests (on pytest's pythonpath)."""

from __future__ import annotations

import uuid


def csrf_of(client) -> str:
    """The double-submit CSRF token the app set in its cookie (fetching the log-in page if none yet)."""
    token = client.cookies.get("imagine_csrf")
    if token is None:
        client.get("/login")
        token = client.cookies.get("imagine_csrf")
    return token


def sign_up(client, email: str | None = None, password: str = "correct horse battery") -> str:
    """Sign up through the form (a fresh email unless given); the client keeps the session cookie."""
    email = email or f"user-{uuid.uuid4().hex[:8]}@example.org"
    r = client.post("/signup", data={"email": email, "password": password, "csrf_token": csrf_of(client)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return email
