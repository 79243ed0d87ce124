"""The same service flows on SQLite (WAL) and on PostgreSQL; migrations run at start-up and are idempotent."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from .conftest import bearer, new_key, sign_up


@pytest.fixture()
def pg_schema_url(postgres_url):
    """A fresh PostgreSQL schema for this test (isolation under xdist), dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in postgres_url else "?"
    yield f"{postgres_url}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'serve.db'}"
    return request.getfixturevalue("pg_schema_url")


def test_flows_on_both_databases(app_factory, database_url, tmp_path):
    home = tmp_path / "home"
    with TestClient(app_factory(database_url=database_url, home=home)) as c:
        email = sign_up(c)
        key = new_key(c)
        made = c.post("/api/v1/generations", json={"prompt": "a yellow star", "n": 2, "steps": 2, "seed": 5},
                      headers=bearer(key))
        assert made.status_code == 200, made.text
        ids = [i["id"] for i in made.json()["images"]]
        assert c.delete(f"/api/v1/images/{ids[0]}", headers=bearer(key)).status_code == 204
    # a second start on the same database: migrations are a no-op, the data is still there
    with TestClient(app_factory(database_url=database_url, home=home)) as c:
        gallery = c.get("/api/v1/gallery", headers=bearer(key)).json()
        assert [i["id"] for i in gallery["images"]] == ids[1:]
        job = c.get(f"/api/v1/jobs/{made.json()['job']['id']}", headers=bearer(key)).json()
        assert job["status"] == "succeeded" and job["image_ids"] == ids[1:]
        engine = c.app.state.ctx.engine
        if database_url.startswith("sqlite"):
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        tables = set(sa.inspect(engine).get_table_names())
        assert {"users", "sessions", "api_keys", "jobs", "images", "alembic_version"} <= tables
        with engine.connect() as conn:
            role = conn.execute(sa.text("SELECT role FROM users WHERE email = :e"), {"e": email}).scalar()
        assert role == "user"
