"""The platform export schema (docs/platform-export-schema.md): Parquet tables and the JSONL event log.

A real platform's export follows these schemas; the demo generator writes them, the dataset stage reads them.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")

POSTS_SCHEMA = pa.schema(
    [
        pa.field("post_id", pa.string(), nullable=False),
        pa.field("owner_id", pa.string(), nullable=False),
        pa.field("image_uri", pa.string(), nullable=False),
        pa.field("caption", pa.string()),
        pa.field("visibility", pa.string(), nullable=False),
        pa.field("created_at", TIMESTAMP, nullable=False),
        pa.field("deleted_at", TIMESTAMP),
    ]
)

OWNERS_SCHEMA = pa.schema(
    [
        pa.field("owner_id", pa.string(), nullable=False),
        pa.field("region", pa.string(), nullable=False),
        pa.field("birth_year", pa.int16(), nullable=False),
        pa.field("ai_training_opt_out", pa.bool_(), nullable=False),
        pa.field("created_at", TIMESTAMP, nullable=False),
        pa.field("account_deleted_at", TIMESTAMP),
    ]
)

SCENES_SCHEMA = pa.schema(
    [
        pa.field("post_id", pa.string(), nullable=False),
        pa.field("scene_json", pa.string(), nullable=False),
    ]
)

# `duplicate_of` extends the interface compatibly: the post whose image this one copies (null for originals).
TRUTH_SCHEMA = pa.schema(
    [
        pa.field("post_id", pa.string(), nullable=False),
        pa.field("tags", pa.list_(pa.string()), nullable=False),
        pa.field("duplicate_of", pa.string()),
    ]
)

VISIBILITIES: tuple[str, ...] = ("public", "friends", "private")
EVENT_TYPES: tuple[str, ...] = ("post_deleted", "visibility_changed", "owner_opted_out", "post_opted_out", "account_deleted")
ACCOUNT_EVENTS: frozenset[str] = frozenset({"owner_opted_out", "account_deleted"})

# Parquet writer options that make the files byte-stable for the same rows.
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "use_dictionary": True,
    "write_statistics": True,
    "write_page_index": False,
}


def validate_event(event: dict[str, Any]) -> None:
    """Raise ValueError when an event does not follow the event-log schema."""
    missing = {"event_id", "ts", "type", "owner_id", "post_id"} - event.keys()
    if missing:
        raise ValueError(f"event lacks {sorted(missing)}: {event}")
    if event["type"] not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event['type']!r}; known: {', '.join(EVENT_TYPES)}")
    ts = datetime.fromisoformat(str(event["ts"]).replace("Z", "+00:00"))
    if ts.tzinfo is None:
        raise ValueError(f"event ts {event['ts']!r} has no time zone; use UTC")
    if event["type"] in ACCOUNT_EVENTS:
        if event["post_id"] is not None:
            raise ValueError(f"{event['type']} is an account-level event and must have post_id null")
    elif not event["post_id"]:
        raise ValueError(f"{event['type']} needs a post_id")
    if event["type"] == "visibility_changed" and event.get("visibility") not in VISIBILITIES:
        raise ValueError(f"visibility_changed needs visibility in {VISIBILITIES}, got {event.get('visibility')!r}")


def event_line(event: dict[str, Any]) -> str:
    """One event as a canonical JSON line (sorted keys, so files are byte-stable)."""
    validate_event(event)
    return json.dumps(event, sort_keys=True, ensure_ascii=False) + "\n"


def read_events(path: str | Path) -> Iterator[dict[str, Any]]:
    """The events of a JSONL log, in file order; a malformed line is an error naming its number."""
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
                validate_event(event)
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: bad event: {exc}") from exc
            yield event


def append_event(path: str | Path, event: dict[str, Any]) -> None:
    """Append one event atomically: the whole line is written with a single O_APPEND write, then fsynced."""
    data = event_line(event).encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, data)
        if written != len(data):
            raise OSError(f"short write appending to {path}: {written} of {len(data)} bytes")
        os.fsync(fd)
    finally:
        os.close(fd)
