"""Fixtures of the serve stage: a real tiny model, the real guard, real apps over real databases and sockets.

Heavy parts (generator, policy, output guard) load once per test session and are shared between apps;
each app gets its own data home, database and rate-limit namespace.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from web_helpers import csrf_of, free_port, live_server, sign_up  # noqa: F401  (re-exported for the tests here)

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def make_settings(home: Path, model: Path, *, database_url: str | None = None, redis_url: str | None = None,
                  **serve: Any):
    from imagine.config import ServeSettings, Settings

    serve.setdefault("cookie_secure", False)
    serve.setdefault("rate_user", "1000/minute")
    serve.setdefault("rate_ip", "1000/minute")
    return Settings(data_home=home, model=model, database_url=database_url, redis_url=redis_url,
                    serve=ServeSettings(**serve))


@pytest.fixture()
def app_factory(tmp_path, tiny_model_dir, components):
    """`app_factory(**serve_settings)` -> a FastAPI app with its own data home, sharing the loaded components."""
    from imagine.serve.app import create_app

    def factory(*, database_url: str | None = None, redis_url: str | None = None, home: Path | None = None, **serve):
        settings = make_settings(home or tmp_path / f"var-{uuid.uuid4().hex[:6]}", tiny_model_dir,
                                 database_url=database_url, redis_url=redis_url, **serve)
        return create_app(settings, limiter_namespace=f"test-{uuid.uuid4().hex}", **components)

    return factory


@pytest.fixture()
def client(app_factory):
    from fastapi.testclient import TestClient

    with TestClient(app_factory()) as c:
        yield c


# -- accounts through the real web forms -------------------------------------------------------------------



def new_key(client) -> str:
    r = client.post("/api/v1/keys", json={"name": "test"}, headers={"X-CSRF-Token": csrf_of(client)})
    assert r.status_code == 201, r.text
    return r.json()["key"]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture()
def user_key(client) -> str:
    """A signed-up user (logged in on `client`) and one API key of theirs."""
    sign_up(client)
    return new_key(client)


# -- a real uvicorn server on a free loopback port -------------------------------------------------------



def sse_events(text: str) -> list[tuple[str, str]]:
    """(event, data) pairs of a server-sent-events body."""
    return re.findall(r"event: (\w+)\ndata: (.*)\n\n", text)
