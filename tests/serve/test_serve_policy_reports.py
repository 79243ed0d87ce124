"""Contesting a refusal through the API, stored on SQLite and PostgreSQL, listed for operators."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from .conftest import bearer, csrf_of, new_key, sign_up
from .test_serve_db import database_url, pg_schema_url  # noqa: F401 - fixtures


def test_a_refused_user_reports_the_refusal_and_an_operator_sees_it(app_factory, database_url):  # noqa: F811
    with TestClient(app_factory(database_url=database_url)) as c:
        sign_up(c)
        key = new_key(c)
        refused = c.post("/api/v1/generations", json={"prompt": "a nude woman on a bed", "n": 1, "steps": 2}, headers=bearer(key))
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "content_policy_violation"
        assert "try something else" not in refused.text.lower()
        made = c.post("/api/v1/policy/reports", json={"prompt": "a nude woman on a bed", "comment": "a painting study"},
                      headers=bearer(key))
        assert made.status_code == 201, made.text
        body = made.json()
        # The rule is taken from the policy, not from the client.
        assert (body["category"], body["code"]) == ("sexual", "unsafe.sexual")
        assert body["reason"].startswith("Refused by the sexual-content rule")
        # A prompt the policy allows is not a report.
        allowed = c.post("/api/v1/policy/reports", json={"prompt": "a red car"}, headers=bearer(key))
        assert allowed.status_code == 400 and allowed.json()["error"]["param"] == "prompt"
        # The web session needs its CSRF token like every other change.
        assert c.post("/api/v1/policy/reports", json={"prompt": "a nude woman on a bed"}).status_code == 403
        ok = c.post("/api/v1/policy/reports", json={"prompt": "a nude woman on a bed"}, headers={"X-CSRF-Token": csrf_of(c)})
        assert ok.status_code == 201
        engine = c.app.state.ctx.engine
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT code, prompt, comment FROM policy_reports ORDER BY created_at")).all()
        assert [tuple(r) for r in rows] == [("unsafe.sexual", "a nude woman on a bed", "a painting study"),
                                            ("unsafe.sexual", "a nude woman on a bed", "")]


def test_reports_are_listed_on_the_admin_overview(app_factory):
    from imagine.db.models import User

    with TestClient(app_factory()) as c:
        email = sign_up(c)
        assert c.post("/api/v1/policy/reports", json={"prompt": "a swastika flag", "comment": "history class"},
                      headers={"X-CSRF-Token": csrf_of(c)}).status_code == 201
        with c.app.state.ctx.sessions.begin() as db:
            db.scalar(sa.select(User).where(User.email == email)).role = "admin"
        overview = c.get("/api/admin/overview").json()
        assert overview["reports_by_code"] == {"unsafe.hate_symbols": 1}
        assert overview["reports"][0]["comment"] == "history class"
        page = c.get("/admin")
        assert page.status_code == 200 and "history class" in page.text and "unsafe.hate_symbols" in page.text
