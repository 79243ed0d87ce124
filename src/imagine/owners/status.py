"""What happened to an owner's photos: read back from the dataset, never from what we promised.

Per photo: its decision in the latest dataset version (included, or excluded and why), every
version that included it, and every registered model trained on one of those versions. Per
request (opt-out, deletion): ``pending`` until a dataset version without the photo is committed
(``imagine dataset apply-events``), ``applied`` from then, ``purged`` once ``imagine dataset
purge`` has erased the bytes and proved it — each with its timestamp, from ``revocations.parquet``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from imagine.model.registry import ModelRecord, list_models


@dataclass(frozen=True)
class PhotoStatus:
    post_id: str
    caption: str | None
    visibility: str
    created_at: datetime | None
    included: bool | None  # None: no dataset version has decided this post yet
    reason: str | None
    detail: str | None
    latest_version: int | None
    versions_included: list[int] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    revocation: str | None = None  # pending / applied / purged, for a revoked post
    applied_at: datetime | None = None
    purged_at: datetime | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RequestStatus:
    event_id: str
    kind: str
    post_id: str | None
    requested_at: datetime
    status: str  # pending / applied / purged / not_needed
    applied_at: datetime | None
    purged_at: datetime | None
    posts: int  # photos the request removed from the dataset
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _same_dataset(uri: str, dataset_dir: Path) -> bool:
    """A model record may name the dataset folder or its ``images.lance``."""
    if "://" in uri:
        return False
    path = Path(uri).resolve()
    want = Path(dataset_dir).resolve()
    return path == want or path == want / "images.lance"


def models_by_version(registry: Path, dataset_dir: Path) -> dict[int, list[ModelRecord]]:
    """Registered models trained on each version of this dataset."""
    out: dict[int, list[ModelRecord]] = defaultdict(list)
    for record in list_models(registry):
        if _same_dataset(record.dataset_uri, dataset_dir):
            for version in record.dataset_versions:
                out[int(version)].append(record)
    return out


def decisions_of(dataset_dir: Path, post_ids: list[str]) -> list[dict]:
    from imagine.dataset.write import read_decisions

    if not post_ids or not (Path(dataset_dir) / "versions.json").exists():
        return []
    quoted = ", ".join("'" + p.replace("'", "''") + "'" for p in post_ids)
    table = read_decisions(
        dataset_dir,
        filter=f"post_id IN ({quoted})",
        columns=["dataset_version", "post_id", "included", "reason", "detail", "event_id"],
    )
    return table.to_pylist()


def revocation_records(dataset_dir: Path) -> dict[str, dict]:
    from imagine.dataset import revocations

    if not Path(dataset_dir).exists():
        return {}
    return {r["post_id"]: r for r in revocations.read(dataset_dir).to_pylist()}


def photo_statuses(posts: list[dict], *, dataset_dir: Path, registry: Path) -> list[PhotoStatus]:
    """One status per post (``posts`` as rows of ``posts.parquet``), in the order given."""
    rows = decisions_of(dataset_dir, [p["post_id"] for p in posts])
    by_post: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_post[row["post_id"]].append(row)
    models = models_by_version(registry, dataset_dir)
    revoked = revocation_records(dataset_dir)
    out = []
    for post in posts:
        decided = sorted(by_post.get(post["post_id"], []), key=lambda r: r["dataset_version"])
        latest = decided[-1] if decided else None
        included_in = [r["dataset_version"] for r in decided if r["included"]]
        seen_by = sorted({m.model_id for v in included_in for m in models.get(v, [])})
        rev = revoked.get(post["post_id"])
        out.append(
            PhotoStatus(
                post_id=post["post_id"],
                caption=post.get("caption"),
                visibility=post.get("visibility", ""),
                created_at=post.get("created_at"),
                included=None if latest is None else bool(latest["included"]),
                reason=None if latest is None else latest["reason"],
                detail=None if latest is None else latest["detail"],
                latest_version=None if latest is None else latest["dataset_version"],
                versions_included=included_in,
                models=seen_by,
                revocation=None if rev is None else ("purged" if rev["purged_at"] is not None else "applied"),
                applied_at=None if rev is None else rev["applied_at"],
                purged_at=None if rev is None else rev["purged_at"],
            )
        )
    return out


def request_statuses(requests: list, *, owner_posts: list[dict], dataset_dir: Path) -> list[RequestStatus]:
    """The status of each ``OwnerRequest``: the slowest of the photos it concerns decides it."""
    revoked = revocation_records(dataset_dir)
    in_latest = _posts_in_latest_version(dataset_dir, [p["post_id"] for p in owner_posts])
    out = []
    for req in requests:
        targets = [req.post_id] if req.post_id is not None else [p["post_id"] for p in owner_posts]
        records = [revoked[pid] for pid in targets if pid in revoked]
        waiting = [pid for pid in targets if pid in in_latest]
        note = ""
        if waiting:
            status, applied_at, purged_at = "pending", None, None
        elif not records:
            # Nothing of this request was ever in the dataset: the event keeps it out of future builds.
            status, applied_at, purged_at = "not_needed", None, None
            note = "not in the training set: the request keeps it out of future versions"
        else:
            applied_at = max(r["applied_at"] for r in records)
            purged = [r["purged_at"] for r in records]
            purged_at = max(purged) if all(p is not None for p in purged) else None
            status = "purged" if purged_at is not None else "applied"
            if any(r["event_id"] != req.event_id for r in records):
                note = "already removed by an earlier request or platform event"
        out.append(
            RequestStatus(
                event_id=req.event_id,
                kind=req.kind,
                post_id=req.post_id,
                requested_at=req.requested_at,
                status=status,
                applied_at=applied_at,
                purged_at=purged_at,
                posts=len(records),
                note=note,
            )
        )
    return out


def _posts_in_latest_version(dataset_dir: Path, post_ids: list[str]) -> set[str]:
    """Which of ``post_ids`` the newest committed version still trains on."""
    from imagine.dataset.versions import list_versions, open_images

    if not post_ids or not list_versions(dataset_dir):
        return set()
    quoted = ", ".join("'" + p.replace("'", "''") + "'" for p in post_ids)
    table = open_images(dataset_dir).to_table(columns=["post_id"], filter=f"post_id IN ({quoted})")
    return set(table.column("post_id").to_pylist())
