"""The default demo corpus (imagine.platform.demo) through build -> apply-events -> purge, checked
against the platform's ground truth (truth.parquet tags and duplicate_of)."""

from __future__ import annotations

from collections import Counter

import pyarrow.parquet as pq
import pytest

from imagine.dataset import schema as s
from imagine.dataset.versions import list_versions, open_images
from imagine.dataset.write import read_decisions

NEVER_TRAINED = {"minor_owner", "owner_opted_out", "owner_deleted", "deleted", "xmp_dmi_prohibited",
                 "cawg_not_allowed", "not_an_image", "zero_byte", "truncated"}
CORRUPT = {"not_an_image", "zero_byte", "truncated"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from imagine.dataset.build import build_dataset
    from imagine.platform.demo import generate_demo

    root = tmp_path_factory.mktemp("demo")
    generate_demo(root / "platform", posts=600, seed=3, progress=False)
    report = build_dataset(root / "platform/posts.parquet", root / "platform/owners.parquet", None, root / "ds",
                           export_events=False, progress=False)
    truth = {r["post_id"]: r for r in pq.read_table(root / "platform/truth.parquet").to_pylist()}
    posts = {r["post_id"]: r for r in pq.read_table(root / "platform/posts.parquet").to_pylist()}
    return root, report, truth, posts


def _ids(table) -> set[str]:
    return set(table.column("post_id").to_pylist())


def test_demo_every_post_one_decision_and_no_forbidden_post(demo):
    root, report, truth, posts = demo
    dec = read_decisions(root / "ds").to_pylist()
    assert Counter(r["post_id"] for r in dec) == Counter(posts.keys())
    rows = _ids(open_images(root / "ds").to_table(columns=["post_id"]))
    assert rows == {r["post_id"] for r in dec if r["included"]}
    for pid in rows:
        assert posts[pid]["visibility"] == "public" and posts[pid]["deleted_at"] is None
        assert not NEVER_TRAINED & set(truth[pid]["tags"]), (pid, truth[pid]["tags"])
    by_reason = {r["post_id"]: r["reason"] for r in dec}
    corrupt = [p for p, t in truth.items() if CORRUPT & set(t["tags"])]
    assert corrupt, "the demo corpus should carry corrupt files"
    for pid in corrupt:
        assert by_reason[pid] != s.INCLUDED
    reserved = [p for p, t in truth.items() if {"xmp_dmi_prohibited", "cawg_not_allowed"} & set(t["tags"])
                and by_reason[p] not in s.CONSENT_REASONS]
    # Caption rules run before any fetch, so a reserved file with a foreign caption never gets opened.
    assert reserved and {by_reason[p] for p in reserved} <= {s.RESERVED_BY_METADATA, s.CAPTION_NOT_ENGLISH}
    assert s.RESERVED_BY_METADATA in {by_reason[p] for p in reserved}


def test_demo_duplicate_groups_collapse(demo):
    root, _, truth, _ = demo
    rows = _ids(open_images(root / "ds").to_table(columns=["post_id"]))
    pairs = [(p, t["duplicate_of"]) for p, t in truth.items() if t["duplicate_of"]
             and not {"near_duplicate:cropped"} & set(t["tags"])]
    assert pairs
    both = [(a, b) for a, b in pairs if a in rows and b in rows]
    assert both == []
    assert any(r["reason"] == s.DUPLICATE_OF for r in read_decisions(root / "ds").to_pylist())


def test_demo_events_then_purge(demo):
    from imagine.dataset.events import apply_events
    from imagine.dataset.lookup import lookup_post
    from imagine.dataset.purge import purge

    root, report, _, _ = demo
    before = _ids(open_images(root / "ds").to_table(columns=["post_id"]))
    applied = apply_events(root / "ds", root / "platform/events.jsonl")
    assert applied.revoked > 0
    revoked = {r["post_id"] for r in read_decisions(root / "ds", filter=f"dataset_version = {applied.version} "
                                                                           "AND reason = 'revoked_by_event'").to_pylist()}
    assert revoked and revoked <= before
    result = purge(root / "ds")
    assert result.proof.erased and result.purged_posts == len(revoked)
    assert not revoked & _ids(open_images(root / "ds").to_table(columns=["post_id"]))
    pid = sorted(revoked)[0]
    hist = lookup_post(root / "ds", pid)
    assert hist.versions_included == [report.version] and hist.revocation.status == "purged"
    assert [v.kind for v in list_versions(root / "ds")] == ["build", "apply-events", "purge"]
