"""Web-test helpers shared by the serve and owners tests (tests/ is on pytest's pythonpath):
accounts through the real forms, and Debian's Chromium launched the one way this machine allows."""

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


# Debian's Chromium, headless; the networking flags stop it calling out from a machine with no internet.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def launch_chromium(playwright):
    """A Playwright browser on Debian's Chromium (Playwright downloads no browser of its own here)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
