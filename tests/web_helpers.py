"""Web-test helpers shared by the serve and owners tests (tests/ is on pytest's pythonpath):
accounts through the real forms, and Debian's Chromium launched the one way this machine allows."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Iterator


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(app) -> Iterator[str]:
    """Run ``app`` under uvicorn on a free loopback port, in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                          timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
