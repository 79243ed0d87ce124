"""Per-post revocation records: which event revoked a post, when it was applied, when purged.

Kept in ``revocations.parquet`` (ids and timestamps only, never pixels or hashes), replaced
atomically. A post's purge status is ``applied`` (gone from the latest version, bytes still in
old versions) until a purge proves it gone, then ``purged``; ``pending`` means an event on the
platform has not been applied yet (``status`` with ``events=``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from imagine.atomic import atomic_write
from imagine.dataset.schema import TS
from imagine.dataset.versions import REVOCATIONS

SCHEMA = pa.schema([
    pa.field("post_id", pa.string(), nullable=False),
    pa.field("owner_id", pa.string()),
    pa.field("event_id", pa.string()),
    pa.field("event_type", pa.string()),
    pa.field("event_ts", TS),
    pa.field("applied_version", pa.int64()),
    pa.field("applied_at", TS),
    pa.field("purged_version", pa.int64()),
    pa.field("purged_at", TS),
])


def read(dataset_dir: Path) -> pa.Table:
    path = Path(dataset_dir) / REVOCATIONS
    if not path.exists():
        return SCHEMA.empty_table()
    return pq.read_table(path).cast(SCHEMA)


def write(dataset_dir: Path, table: pa.Table) -> None:
    buf = io.BytesIO()
    pq.write_table(table.cast(SCHEMA).sort_by("post_id"), buf)
    atomic_write(Path(dataset_dir) / REVOCATIONS, buf.getvalue())


@dataclass(frozen=True)
class PostRevocation:
    post_id: str
    status: str  # pending | applied | purged
    event_id: str | None
    event_type: str | None
    event_ts: datetime | None
    applied_version: int | None = None
    applied_at: datetime | None = None
    purged_version: int | None = None
    purged_at: datetime | None = None


def status(dataset_dir: Path, *, events: Path | None = None) -> dict[str, PostRevocation]:
    """Revocation state of every revoked post (``pending`` ones need the platform's ``events``)."""
    out: dict[str, PostRevocation] = {}
    for r in read(dataset_dir).to_pylist():
        state = "purged" if r["purged_at"] is not None else "applied"
        out[r["post_id"]] = PostRevocation(r["post_id"], state, r["event_id"], r["event_type"], r["event_ts"],
                                           r["applied_version"], r["applied_at"], r["purged_version"],
                                           r["purged_at"])
    if events is not None:
        from imagine.dataset.events import pending_post_events

        for post_id, ev in pending_post_events(dataset_dir, events).items():
            if post_id not in out:
                out[post_id] = PostRevocation(post_id, "pending", ev.event_id, ev.type, ev.ts)
    return out
