"""Apply platform events: a new dataset version without every post an event revokes.

    imagine dataset apply-events --events var/platform/events.jsonl --out var/datasets/demo

Revoking events: ``post_deleted``, ``post_opted_out``, ``visibility_changed`` to a visibility the
policy does not allow, and the owner-level ``owner_opted_out`` and ``account_deleted`` (every post
of the owner). The new version is a Lance delete (rows only *marked* deleted: the bytes stay on
disk and old versions still return them until ``purge``). Each revoked post gets the decision
``revoked_by_event`` with the event id and time, and a ``revocations.parquet`` record (status
``applied``). With the policy's ``[revocation] near_duplicates`` (default on), every row whose
picture copies a revoked one (same file, re-encode, resize, crop; by anyone) is revoked with it:
same event, detail ``...:near_duplicate_of:<revoked post>``. Applying the same events again
changes nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from imagine.dataset import revocations
from imagine.dataset import schema as s
from imagine.dataset.card import code_version, file_digest, read_card, write_card
from imagine.dataset.neardup import Fingerprint, FingerprintIndex
from imagine.dataset.policy import Policy
from imagine.dataset.reposts import copies_of
from imagine.dataset.versions import (
    VersionInfo, commit_version, latest_version, now_utc, open_images, recover,
)
from imagine.dataset.write import append_decisions, read_decisions
from imagine.platform.schema import read_events as platform_read_events

log = logging.getLogger(__name__)

POST_EVENTS = ("post_deleted", "post_opted_out", "visibility_changed")
OWNER_EVENTS = ("owner_opted_out", "account_deleted")


@dataclass(frozen=True)
class Event:
    event_id: str
    ts: datetime
    type: str
    owner_id: str
    post_id: str | None
    visibility: str | None = None


def read_events(path: Path | str) -> list[Event]:
    """Events of a platform ``events.jsonl`` (local path or fsspec URL; validated by the platform's
    reader), oldest first."""
    if "://" in str(path):  # the platform's reader validates local files: fetch a copy first
        import tempfile

        import fsspec

        with tempfile.TemporaryDirectory() as tmp, fsspec.open(str(path), "rb") as fh:
            local = Path(tmp) / "events.jsonl"
            local.write_bytes(fh.read())
            return read_events(local)
    out = []
    for e in platform_read_events(path):
        ts = datetime.fromisoformat(str(e["ts"]).replace("Z", "+00:00"))
        out.append(Event(str(e["event_id"]), ts, e["type"], e["owner_id"], e.get("post_id"), e.get("visibility")))
    return sorted(out, key=lambda e: (e.ts, e.event_id))


def revocations_for(events: list[Event], posts: pa.Table, allowed_visibilities: frozenset[str]) -> dict[str, Event]:
    """``{post_id: the first event that revokes it}`` for the posts in ``posts`` (post_id, owner_id).

    Deletions and opt-outs are final. A visibility change to a visibility the policy does not allow
    revokes the post until a later change makes it allowed again: a post made private and public
    again is not revoked. The event recorded is the one from which the post has been out without
    a break - a post made private and later covered by an account deletion records the visibility
    change, not the later account-level event.
    """
    by_owner: dict[str, list[str]] = {}
    present = set(posts.column("post_id").to_pylist())
    for pid, oid in zip(posts.column("post_id").to_pylist(), posts.column("owner_id").to_pylist()):
        by_owner.setdefault(oid, []).append(pid)
    final: dict[str, Event] = {}
    hidden_since: dict[str, Event] = {}  # posts currently non-allowed visibility, since that event
    for ev in events:  # oldest first
        if ev.type in OWNER_EVENTS:
            targets = by_owner.get(ev.owner_id, [])
        elif ev.type == "visibility_changed":
            if ev.post_id in final:
                continue  # already out for good; later visibility changes cannot bring it back
            if ev.visibility in allowed_visibilities:
                hidden_since.pop(ev.post_id, None)
            else:
                hidden_since.setdefault(ev.post_id, ev)
            continue
        elif ev.type in POST_EVENTS:
            targets = [ev.post_id]
        else:
            raise ValueError(f"event {ev.event_id}: unknown type {ev.type!r}")
        for pid in targets:
            if pid not in final:
                final[pid] = hidden_since.get(pid, ev)
    for pid, ev in hidden_since.items():
        final.setdefault(pid, ev)
    return {pid: ev for pid, ev in final.items() if pid in present}


def pending_post_events(dataset_dir: Path, events: Path, policy: Path | None = None) -> dict[str, Event]:
    """Revoking events for posts still in the latest version: received, not yet applied."""
    pol = Policy.load(policy)
    posts = open_images(dataset_dir).to_table(columns=["post_id", "owner_id"])
    return revocations_for(read_events(events), posts, pol.allowed_visibilities)


def _copies(ds, revoked: dict[str, Event]) -> dict[str, str]:
    """Rows of ``ds`` (a Lance version) that copy the picture of a revoked row: ``{post: revoked post}``."""
    table = ds.to_table(columns=["post_id", "sha256", "fp_hashes", "fp_thumb"])
    ids = table.column("post_id").to_pylist()
    sha = table.column("sha256").to_pylist()
    index = FingerprintIndex.from_columns(table.column("fp_hashes").to_pylist(), table.column("fp_thumb").to_pylist())
    rows = {pid: i for i, pid in enumerate(ids)}
    probes = {pid: (Fingerprint(index.hashes[rows[pid]], index.thumbs[rows[pid]]), sha[rows[pid]])
              for pid in revoked if pid in rows}
    return copies_of(index, ids, sha, probes)


@dataclass
class ApplyReport:
    version: int | None  # None: nothing to revoke, no new version
    revoked: int
    by_event_type: dict[str, int]
    seconds: float


def apply_events(dataset_dir: Path, events: Path, *, policy: Path | None = None) -> ApplyReport:
    """Make a new version without every post that ``events`` revoke; see the module docstring."""
    import time

    import lance

    t0 = time.perf_counter()
    dataset_dir = Path(dataset_dir)
    recover(dataset_dir)
    base = latest_version(dataset_dir)
    pol = Policy.load(policy)
    ds = open_images(dataset_dir, base)
    posts = ds.to_table(columns=["post_id", "owner_id"])
    revoked = revocations_for(read_events(events), posts, pol.allowed_visibilities)
    copy_of: dict[str, str] = {}
    if revoked and pol.revoke_near_duplicates:  # every copy of a revoked picture goes with it
        copy_of = _copies(ds, revoked)
        revoked.update({pid: revoked[rid] for pid, rid in copy_of.items()})
    if not revoked:
        return ApplyReport(None, 0, {}, time.perf_counter() - t0)

    ids = sorted(revoked)
    ds = lance.dataset(str(dataset_dir / "images.lance"))
    quoted = ", ".join("'" + pid.replace("'", "''") + "'" for pid in ids)
    ds.delete(f"post_id IN ({quoted})")
    version = lance.dataset(str(dataset_dir / "images.lance")).version
    applied_at = now_utc()

    # Decisions of the new version: the previous ones, with the revoked posts re-decided.
    prev = read_decisions(dataset_dir, filter=f"dataset_version = {base}")
    rows = prev.to_pylist()
    for r in rows:
        r["dataset_version"] = version
        r["decided_at"] = applied_at
        ev = revoked.get(r["post_id"])
        if ev is not None:
            detail = f"{ev.type}:{ev.event_id}"
            if r["post_id"] in copy_of:
                detail += f":near_duplicate_of:{copy_of[r['post_id']]}"
            r.update(included=False, reason=s.REVOKED_BY_EVENT, detail=detail, event_id=ev.event_id, event_ts=ev.ts)
    append_decisions(dataset_dir, pa.Table.from_pylist(rows, schema=s.DECISIONS_SCHEMA))

    owner_of = dict(zip(posts.column("post_id").to_pylist(), posts.column("owner_id").to_pylist()))
    old = revocations.read(dataset_dir)
    old = old.filter(pc.invert(pc.is_in(old.column("post_id"), pa.array(ids, pa.string()))))
    new = pa.Table.from_pylist([
        {"post_id": pid, "owner_id": owner_of[pid], "event_id": ev.event_id, "event_type": ev.type,
         "event_ts": ev.ts, "applied_version": version, "applied_at": applied_at}
        for pid, ev in sorted(revoked.items())], schema=revocations.SCHEMA)
    revocations.write(dataset_dir, pa.concat_tables([old, new]))

    prev_card = read_card(dataset_dir, base)
    counts = dict(Counter(r["reason"] for r in rows))
    kept = counts.get(s.INCLUDED, 0)
    by_type = dict(Counter(ev.type for ev in revoked.values()))
    card = dict(prev_card, version=version, kind="apply-events", created_at=applied_at.isoformat(), rows=kept,
                counts_by_reason=counts, code_version=code_version(), parent_version=base,
                events={"path": str(events), "sha256": file_digest(Path(events)), "revoked": len(ids),
                        "by_event_type": by_type})
    card.pop("rows_per_second", None)
    cdir = write_card(dataset_dir, card)
    commit_version(dataset_dir, VersionInfo(version, "apply-events", applied_at.isoformat(), kept,
                                            prev_card["policy"]["label"], str(cdir.relative_to(dataset_dir)),
                                            {"parent": base, "revoked": len(ids)}))
    lance.dataset(str(dataset_dir / "images.lance")).tags.create(f"v{version}", version)
    log.info("v%d: revoked %d posts (%s)", version, len(ids), by_type)
    return ApplyReport(version, len(ids), by_type, time.perf_counter() - t0)
