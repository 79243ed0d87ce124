"""Reading an owner's posts and profile from the platform export (``posts.parquet``, ``owners.parquet``)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq


def _rows(path: Path, owner_id: str) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no platform export at {path}; run `imagine platform demo` first")
    table = pq.read_table(path)
    return table.filter(pc.equal(table["owner_id"], owner_id)).to_pylist()


def owner_posts(platform_dir: Path, owner_id: str) -> list[dict]:
    """The owner's posts, oldest first, as dicts with the ``posts.parquet`` columns."""
    rows = _rows(Path(platform_dir) / "posts.parquet", owner_id)
    return sorted(rows, key=lambda r: (r["created_at"], r["post_id"]))


def owner_profile(platform_dir: Path, owner_id: str) -> dict:
    """The owner's row of ``owners.parquet``; a missing owner is an error."""
    rows = _rows(Path(platform_dir) / "owners.parquet", owner_id)
    if not rows:
        raise KeyError(f"no owner {owner_id!r} on the platform")
    return rows[0]


def post_of_owner(platform_dir: Path, owner_id: str, post_id: str) -> dict | None:
    """The post if it belongs to this owner, else None (callers answer 404 either way: no existence leak)."""
    return next((p for p in owner_posts(platform_dir, owner_id) if p["post_id"] == post_id), None)
