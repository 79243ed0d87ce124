"""`imagine owners ...` and `imagine admin ...` on a real world and a real (SQLite) database."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from imagine.cli import app

from .conftest import MODEL_ID, add_user


def test_owners_and_admin_commands(world, tmp_path, monkeypatch):
    from sqlalchemy import select

    from imagine.config import get_settings
    from imagine.db.migrate import upgrade
    from imagine.db.models import User
    from imagine.db.session import make_engine, make_sessionmaker

    db_url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("IMAGINE_DATABASE_URL", db_url)
    get_settings.cache_clear()
    runner = CliRunner()
    owner_id, posts = sorted(world.included_posts().items())[0]

    status = runner.invoke(app, ["owners", "status", owner_id])
    assert status.exit_code == 0, status.output
    rows = {r["post_id"]: r for r in json.loads(status.output)}
    assert rows[posts[0]]["included"] is True and rows[posts[0]]["models"] == [MODEL_ID]

    used = runner.invoke(app, ["owners", "used", str(world.image_path(posts[0]))])
    assert used.exit_code == 0 and json.loads(used.output)["answer"] == "yes"

    out = tmp_path / "export.json"
    export = runner.invoke(app, ["owners", "export", owner_id, "--out", str(out)])
    assert export.exit_code == 0, export.output
    assert json.loads(out.read_text())["owner_id"] == owner_id

    engine = make_engine(db_url)
    upgrade(engine)
    with make_sessionmaker(engine)() as session:
        user = add_user(session, "ops@example.org")
    assert runner.invoke(app, ["admin", "grant", "ops@example.org"]).exit_code == 0
    with make_sessionmaker(engine)() as session:
        assert session.scalar(select(User.role).where(User.id == user.id)) == "admin"
    missing = runner.invoke(app, ["admin", "grant", "nobody@example.org"])
    assert missing.exit_code != 0 and "no account" in missing.output
    engine.dispose()
