"""Our migration branch and the owners' flow on the real PostgreSQL server (a fresh schema per test)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from imagine.owners import ClaimError, claim_owner, request_opt_out
from imagine.owners.status import request_statuses
from imagine.db.models_owners import OwnerRequest

from .conftest import add_user

pytestmark = pytest.mark.services


@pytest.fixture()
def pg_session(postgres_url):
    from imagine.db.migrate import upgrade
    from imagine.db.session import make_engine, make_sessionmaker

    schema = f"own_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(f"{postgres_url}?options=-csearch_path%3D{schema}")
    try:
        upgrade(engine)
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_claim_and_opt_out_on_postgres(world, pg_session):
    tables = set(sa.inspect(pg_session.get_bind()).get_table_names())
    assert {"owner_links", "owner_requests", "arena_battles", "refusals", "users"} <= tables
    owner_id, posts = sorted(world.included_posts().items())[0]
    alice, bob = add_user(pg_session), add_user(pg_session)
    claim_owner(pg_session, user_id=alice.id, code=world.codes()[owner_id], code_hashes_path=world.platform / "claim_code_hashes.json")
    with pytest.raises(ClaimError):
        claim_owner(pg_session, user_id=bob.id, code=world.codes()[owner_id], code_hashes_path=world.platform / "claim_code_hashes.json")
    request_opt_out(pg_session, owner_id=owner_id, post_id=posts[0], platform_dir=world.platform,
                    events_path=world.platform / "events.jsonl", user_id=alice.id)
    world.apply_events()
    rows = pg_session.query(OwnerRequest).filter_by(owner_id=owner_id).all()
    [status] = request_statuses(rows, owner_posts=[{"post_id": p} for p in posts], dataset_dir=world.dataset)
    assert status.status == "applied" and status.requested_at.tzinfo is not None
