"""A build reads the export's events.jsonl by default; the first revoking event is the one recorded;
captions are bounded by the policy."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pyarrow as pa
import pytest

from imagine.dataset.events import Event, revocations_for
from imagine.dataset.write import read_decisions

REVOKED = {"p001", "p002", "p003"}


def test_default_build_reads_events_beside_the_manifest(corpus, policy_file, tmp_path):
    from imagine.dataset.build import build_dataset

    report = build_dataset(corpus.manifest, corpus.owners, policy_file, tmp_path / "ds", progress=False)
    dec = {r["post_id"]: r for r in read_decisions(tmp_path / "ds").to_pylist()}
    assert {p for p, r in dec.items() if r["reason"] == "revoked_by_event"} >= REVOKED
    assert dec["p001"]["event_id"] == "e1" and dec["p004"]["reason"] == "included"
    assert report.counts_by_reason["revoked_by_event"] >= 3
    card = json.loads((report.card_dir / "card.json").read_text())
    assert card["sources"]["events_path"].endswith("events.jsonl") and card["sources"]["events"]


def test_no_events_flag_builds_the_snapshot(built):
    out, report = built  # built with export_events=False
    dec = {r["post_id"]: r["reason"] for r in read_decisions(out).to_pylist()}
    assert {dec[p] for p in REVOKED} == {"included"}
    assert "revoked_by_event" not in report.counts_by_reason


def _ev(eid: str, ts: str, typ: str, owner: str, post: str | None = None, vis: str | None = None) -> Event:
    return Event(eid, datetime.fromisoformat(ts).replace(tzinfo=timezone.utc), typ, owner, post, vis)


def test_first_revoking_event_is_recorded_not_a_later_account_event():
    posts = pa.table({"post_id": ["a", "b", "c", "d"], "owner_id": ["o", "o", "o", "o2"]})
    events = [
        _ev("v1", "2024-01-01T00:00:00", "visibility_changed", "o", "a", "private"),
        _ev("v2", "2024-01-02T00:00:00", "visibility_changed", "o", "b", "private"),
        _ev("v3", "2024-01-03T00:00:00", "visibility_changed", "o", "b", "public"),  # b back to public
        _ev("d1", "2024-01-04T00:00:00", "post_deleted", "o2", "d"),
        _ev("acc", "2024-01-05T00:00:00", "account_deleted", "o"),
        _ev("v4", "2024-01-06T00:00:00", "visibility_changed", "o2", "d", "public"),  # too late: deleted
    ]
    got = {pid: ev.event_id for pid, ev in revocations_for(events, posts, frozenset({"public"})).items()}
    # a: out since v1 without a break; b: public again before the account went; c: only the account.
    assert got == {"a": "v1", "b": "acc", "c": "acc", "d": "d1"}


@pytest.mark.parametrize("rule", ["truncate", "exclude"])
def test_long_caption_is_cut_or_rejected_with_a_reason(rule, tmp_path):
    from imagine.dataset.caption import CaptionStage
    from imagine.dataset.policy import Policy

    path = tmp_path / "p.toml"
    path.write_text(f'[policy]\nname = "t"\nversion = "1"\n[captions]\ntoo_long = "{rule}"\nmax_chars = 40\n'
                    "max_raw_chars = 80000\n")
    pol = Policy.load(path)
    long = "a red circle above a green tree " * 2000  # 64,000 characters
    batch = pa.RecordBatch.from_pydict({"caption": [long, "a small cat", "x" * 100001],
                                        "included": [True] * 3, "reason": ["included"] * 3,
                                        "detail": [None] * 3})
    out = CaptionStage(pol)(batch).to_pydict()
    assert out["reason"][1] == "included" and out["train_caption"][1] == "a small cat"
    assert out["reason"][2] == "caption_too_long" and "raw caption 100001" in out["detail"][2]
    if rule == "truncate":
        assert out["reason"][0] == "included" and out["train_caption"][0] == "a red circle above a green tree a red"
        assert out["detail"][0] == f"caption_truncated:{len(long.strip())}->37"
    else:
        assert out["reason"][0] == "caption_too_long" and not out["included"][0]


def test_default_policy_bounds_a_100000_character_caption():
    from imagine.dataset.policy import Policy

    pol = Policy.load()
    assert pol.max_caption_chars == 500 and pol.max_raw_caption_chars == 10_000 and pol.revoke_near_duplicates
    batch = pa.RecordBatch.from_pydict({"caption": ["a red circle " * 7700], "included": [True],
                                        "reason": ["included"], "detail": [None]})
    from imagine.dataset.caption import CaptionStage

    out = CaptionStage(pol)(batch).to_pydict()
    assert out["reason"] == ["caption_too_long"] and out["train_caption"] == [None]
