"""Fixtures of the owners/arena/admin tests: a real small demo platform, a real dataset built from it,
a registered model trained (by lineage) on it, and real apps on top, each test with its own copy.

The platform + dataset template is built once per test process (about 15 s: MiniLM loads once) and
copied into every test's data home, because tests change it (events, apply-events, purge).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from web_helpers import csrf_of, free_port, live_server, sign_up  # noqa: F401  (re-exported for the tests here)

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DEMO_POSTS = 120
MODEL_ID = "demo-model-v1"


@dataclass
class World:
    """One test's data home with a platform export, a dataset and a model registered on it."""

    home: Path

    @property
    def platform(self) -> Path:
        return self.home / "platform"

    @property
    def dataset(self) -> Path:
        return self.home / "datasets" / "demo"

    @property
    def registry(self) -> Path:
        return self.home / "models" / "registry.jsonl"

    def codes(self) -> dict[str, str]:
        return json.loads((self.platform / "claim_codes.json").read_text())

    def included_posts(self) -> dict[str, list[str]]:
        """{owner_id: [post_id, ...]} of posts in the latest dataset version that no platform event revokes yet
        (the demo platform writes some events of its own; their owners are left out)."""
        from imagine.dataset.events import pending_post_events
        from imagine.dataset.versions import open_images

        table = open_images(self.dataset).to_table(columns=["post_id", "owner_id"])
        touched = {ev.owner_id for ev in pending_post_events(self.dataset, self.platform / "events.jsonl").values()}
        out: dict[str, list[str]] = {}
        for pid, oid in zip(table.column("post_id").to_pylist(), table.column("owner_id").to_pylist()):
            if oid not in touched:
                out.setdefault(oid, []).append(pid)
        return {k: sorted(v) for k, v in out.items()}

    def image_path(self, post_id: str) -> Path:
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        posts = pq.read_table(self.platform / "posts.parquet")
        uri = posts.filter(pc.equal(posts["post_id"], post_id))["image_uri"][0].as_py()
        return Path(uri) if Path(uri).is_absolute() else self.platform / uri

    def apply_events(self):
        from imagine.dataset.events import apply_events

        return apply_events(self.dataset, self.platform / "events.jsonl")

    def cli(self, *args: str) -> str:
        """Run the real ``imagine`` command on this data home (a separate process, like an operator would)."""
        import subprocess
        import sys

        done = subprocess.run([sys.executable, "-m", "imagine", "--data-home", str(self.home), *args],
                              capture_output=True, text=True, timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def purge(self):
        from imagine.dataset.purge import purge

        return purge(self.dataset, retention_days=0)


@pytest.fixture(scope="session")
def world_template(tmp_path_factory) -> Path:
    from imagine.dataset.build import build_dataset
    from imagine.dataset.versions import latest_version
    from imagine.model.registry import ModelRecord, register_model
    from imagine.platform.demo import generate_demo

    home = tmp_path_factory.mktemp("owners-world")
    generate_demo(home / "platform", posts=DEMO_POSTS, seed=0, progress=False, workers=1)
    dataset = home / "datasets" / "demo"
    build_dataset(home / "platform" / "posts.parquet", home / "platform" / "owners.parquet", out=dataset, progress=False)
    register_model(home / "models" / "registry.jsonl",
                   ModelRecord(model_id=MODEL_ID, path=str(home / "models" / MODEL_ID), dataset_uri=str(dataset),
                               dataset_versions=[latest_version(dataset)]))
    return home


@pytest.fixture()
def world(world_template, tmp_path, monkeypatch) -> World:
    """A private copy of the template, wired as the data home (``IMAGINE_DATA_HOME``)."""
    from imagine.config import get_settings

    home = tmp_path / "var"
    shutil.copytree(world_template, home)
    # The registry names absolute paths of the template; point them at this copy.
    registry = home / "models" / "registry.jsonl"
    registry.write_text(registry.read_text().replace(str(world_template), str(home)))
    monkeypatch.setenv("IMAGINE_DATA_HOME", str(home))
    get_settings.cache_clear()
    yield World(home)
    get_settings.cache_clear()


@pytest.fixture()
def db_session(tmp_path):
    """A real SQLite database with the service's migrations (ours included) applied."""
    from imagine.db.migrate import upgrade
    from imagine.db.session import make_engine, make_sessionmaker

    engine = make_engine(f"sqlite:///{tmp_path / 'owners.db'}")
    upgrade(engine)
    with make_sessionmaker(engine)() as session:
        yield session
    engine.dispose()


def add_user(session, email: str | None = None, role: str = "user"):
    from imagine.serve.accounts import create_user

    user = create_user(session, email or f"u-{uuid.uuid4().hex[:8]}@example.org", "correct horse battery", role=role)
    session.commit()
    return user


# -- apps -------------------------------------------------------------------------------------------------


ARENA = [
    {"name": "ddim-2", "sampler": "ddim", "steps": 2, "guidance": 4.0},
    {"name": "euler-3", "sampler": "euler", "steps": 3, "guidance": 2.0},
]


@pytest.fixture()
def make_app(world, tiny_model_dir, components):
    """``make_app(serve={...}, **owners_settings)`` -> the real service over this test's world (SQLite under its data home)."""
    from imagine.config import OwnersSettings, ServeSettings, Settings
    from imagine.serve.app import create_app

    def factory(database_url: str | None = None, serve: dict[str, Any] | None = None, **owners: Any):
        owners.setdefault("arena_contestants", ARENA)
        owners.setdefault("arena_bootstrap", 100)
        serve_settings = {"cookie_secure": False, "rate_user": "1000/minute", "rate_ip": "1000/minute",
                          "rate_login": "1000/minute", "max_body_bytes": 4 * 1024 * 1024, **(serve or {})}
        settings = Settings(data_home=world.home, model=tiny_model_dir, database_url=database_url,
                            serve=ServeSettings(**serve_settings), owners=OwnersSettings(**owners))
        return create_app(settings, limiter_namespace=f"owners-{uuid.uuid4().hex}", **components)

    return factory




def make_admin(app, email: str) -> None:
    """Operators are made on the command line in real life; here straight in the app's database."""
    from sqlalchemy import select

    from imagine.db.models import User

    with app.state.ctx.sessions.begin() as db:
        db.scalar(select(User).where(User.email == email)).role = "admin"


