"""The owners' library on a real demo platform and dataset: claim, status, opt-out/delete through the
event log, apply-events and purge read back as applied/purged, "was this photo used?", export."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from imagine.owners import ClaimError, OwnerRequestError, claim_owner, linked_owner, request_delete, request_opt_out
from imagine.owners.export import export_owner, to_json
from imagine.owners.posts import owner_posts
from imagine.owners.status import photo_statuses, request_statuses
from imagine.owners.used import was_this_used
from imagine.platform.schema import read_events
from imagine.db.models_owners import OwnerRequest

from .conftest import MODEL_ID, add_user


def _owner_with_posts(world, n: int = 2) -> tuple[str, list[str]]:
    owners = world.included_posts()
    owner_id = next(o for o, posts in sorted(owners.items()) if len(posts) >= n)
    return owner_id, owners[owner_id]


def test_claim_is_one_time_and_checked(world, db_session):
    codes = world.codes()
    owner_id, code = sorted(codes.items())[0]
    alice, bob = add_user(db_session), add_user(db_session)
    with pytest.raises(ClaimError) as bad:
        claim_owner(db_session, user_id=alice.id, code="not-a-code", code_hashes_path=world.platform / "claim_code_hashes.json")
    assert bad.value.code == "invalid_code"
    link = claim_owner(db_session, user_id=alice.id, code=f"  {code} ", code_hashes_path=world.platform / "claim_code_hashes.json")
    assert link.owner_id == owner_id and linked_owner(db_session, alice.id) == owner_id
    with pytest.raises(ClaimError) as used:
        claim_owner(db_session, user_id=bob.id, code=code, code_hashes_path=world.platform / "claim_code_hashes.json")
    assert used.value.code == "invalid_code" and str(used.value) == str(bad.value)  # no used-vs-unknown oracle
    other_code = sorted(codes.items())[1][1]
    with pytest.raises(ClaimError) as twice:
        claim_owner(db_session, user_id=alice.id, code=other_code, code_hashes_path=world.platform / "claim_code_hashes.json")
    assert twice.value.code == "already_linked"
    assert linked_owner(db_session, bob.id) is None


def test_status_and_requests_pending_applied_purged(world, db_session):
    owner_id, included = _owner_with_posts(world)
    posts = owner_posts(world.platform, owner_id)
    statuses = {s.post_id: s for s in photo_statuses(posts, dataset_dir=world.dataset, registry=world.registry)}
    target = included[0]
    assert statuses[target].included is True and statuses[target].reason == "included"
    assert statuses[target].models == [MODEL_ID] and statuses[target].versions_included
    excluded = [s for s in statuses.values() if s.included is False]
    assert all(s.reason and s.reason != "included" for s in excluded)

    # Another owner's post is refused like a missing one.
    foreign = next(p for o, ps in world.included_posts().items() if o != owner_id for p in ps)
    with pytest.raises(OwnerRequestError):
        request_delete(db_session, owner_id=owner_id, post_id=foreign, platform_dir=world.platform, events_path=world.platform / "events.jsonl")

    events_before = sum(1 for _ in read_events(world.platform / "events.jsonl"))
    request = request_opt_out(db_session, owner_id=owner_id, post_id=target, platform_dir=world.platform,
                              events_path=world.platform / "events.jsonl")
    events = list(read_events(world.platform / "events.jsonl"))  # validated by the platform's own reader
    assert len(events) == events_before + 1
    assert events[-1]["event_id"] == request.event_id and events[-1]["type"] == "post_opted_out"

    def state():
        rows = db_session.query(OwnerRequest).filter_by(owner_id=owner_id).all()
        return request_statuses(rows, owner_posts=posts, dataset_dir=world.dataset)[0]

    assert state().status == "pending" and state().applied_at is None

    world.apply_events()
    applied = state()
    assert applied.status == "applied" and applied.applied_at is not None and applied.purged_at is None
    assert applied.applied_at >= request.requested_at.replace(microsecond=0)
    after = {s.post_id: s for s in photo_statuses(posts, dataset_dir=world.dataset, registry=world.registry)}
    assert after[target].included is False and after[target].reason == "revoked_by_event"
    assert after[target].revocation == "applied"
    assert after[target].models == [MODEL_ID]  # the model saw it: that history does not change

    world.purge()
    purged = state()
    assert purged.status == "purged" and purged.purged_at >= purged.applied_at


def test_was_this_used_finds_training_images_in_every_version(world):
    owner_id, included = _owner_with_posts(world)
    target = included[0]
    original = world.image_path(target)

    exact = was_this_used(world.dataset, original.read_bytes(), registry=world.registry, asking_owner=owner_id)
    assert exact.answer == "yes" and exact.confidence == 1.0
    assert exact.matches[0].post_id == target and exact.matches[0].exact and exact.matches[0].owner_id == owner_id
    assert exact.matches[0].models == [MODEL_ID]

    # A re-post by someone else: resized and re-encoded, so only the fingerprint can find it.
    buf = io.BytesIO()
    repost = Image.open(original).convert("RGB")
    repost.resize((repost.width * 3 // 2, repost.height * 3 // 2)).save(buf, "JPEG", quality=85)
    near = was_this_used(world.dataset, buf.getvalue(), registry=world.registry)
    assert near.answer in ("yes", "possibly") and near.matches[0].post_id == target
    assert near.matches[0].owner_id is None  # never reveal who owns a photo to someone else

    # A 20%-cropped copy (80% of each side, off-centre): the crop-robust fingerprint finds it.
    src = Image.open(original).convert("RGB")
    w, h = src.size
    cropped = io.BytesIO()
    src.crop((w // 5, 0, w, h * 4 // 5)).save(cropped, "JPEG", quality=90)
    crop_hit = was_this_used(world.dataset, cropped.getvalue(), registry=world.registry)
    assert crop_hit.answer == "yes" and crop_hit.matches[0].post_id == target

    blank = io.BytesIO()
    Image.new("RGB", (64, 64), (3, 200, 7)).save(blank, "PNG")
    assert was_this_used(world.dataset, blank.getvalue(), registry=world.registry).answer == "no"

    # Revoked but not purged: gone from the latest version, still found in the older one (and said so).
    from imagine.platform.schema import append_event

    append_event(world.platform / "events.jsonl", {"event_id": "t-del-1", "ts": "2030-01-01T00:00:00Z", "type": "post_deleted",
                                                   "owner_id": owner_id, "post_id": target})
    world.apply_events()
    later = was_this_used(world.dataset, original.read_bytes(), registry=world.registry)
    hit = next(m for m in later.matches if m.post_id == target)
    assert later.answer == "yes" and not hit.in_latest and hit.revocation == "applied"
    world.purge()
    gone = was_this_used(world.dataset, original.read_bytes(), registry=world.registry)
    assert target not in [m.post_id for m in gone.matches]


def test_export_holds_everything(world, db_session):
    owner_id, included = _owner_with_posts(world)
    user = add_user(db_session)
    claim_owner(db_session, user_id=user.id, code=world.codes()[owner_id], code_hashes_path=world.platform / "claim_code_hashes.json")
    request_opt_out(db_session, owner_id=owner_id, platform_dir=world.platform, events_path=world.platform / "events.jsonl", user_id=user.id)
    doc = json.loads(to_json(export_owner(db_session, owner_id=owner_id, platform_dir=world.platform, dataset_dir=world.dataset,
                                          registry=world.registry, events_path=world.platform / "events.jsonl")))
    assert doc["owner_id"] == owner_id and doc["profile"]["owner_id"] == owner_id
    assert doc["account"]["email"] == user.email
    assert {p["post_id"] for p in doc["posts"]} >= set(included)
    assert {d["post_id"] for d in doc["dataset_decisions"]} >= set(included)
    assert [r["kind"] for r in doc["requests"]] == ["owner_opted_out"] and doc["requests"][0]["status"] == "pending"
    assert any(e["type"] == "owner_opted_out" for e in doc["platform_events"])
    assert all(e["owner_id"] == owner_id for e in doc["platform_events"])


def test_account_wide_opt_out_covers_every_photo(world, db_session):
    owner_id, included = _owner_with_posts(world)
    posts = owner_posts(world.platform, owner_id)
    request_opt_out(db_session, owner_id=owner_id, platform_dir=world.platform, events_path=world.platform / "events.jsonl")
    never = next((p["post_id"] for p in posts if p["post_id"] not in included), None)

    def state():
        rows = db_session.query(OwnerRequest).filter_by(owner_id=owner_id).all()
        return request_statuses(rows, owner_posts=posts, dataset_dir=world.dataset)[0]

    assert state().status == "pending" and state().post_id is None
    world.apply_events()
    done = state()
    assert done.status == "applied" and done.posts == len(included)
    statuses = photo_statuses(posts, dataset_dir=world.dataset, registry=world.registry)
    assert not any(s.included for s in statuses)
    if never is not None:  # a photo that was never in the training set stays out, with its own reason
        assert next(s for s in statuses if s.post_id == never).reason != "revoked_by_event"
