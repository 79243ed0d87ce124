"""Lineage and lookup: "was this photo used, where, and is it still?"

- ``lookup_post`` / ``lookup_owner``: every committed version's decision for the post(s), the
  versions that contained it, its revocation state (revoked at t, purged at t'), and the models
  trained on any of those versions (``imagine.model.registry.models_for_versions``).
- ``lookup_image``: an image (file, bytes or PIL image) sent through the training transform and
  matched on the perceptual hash against the latest version (vector index on ``phash_bits``:
  squared L2 of 0/1 bits = Hamming distance), plus exact sha256 when given the original bytes.
  Used by the memorization guard and the owners' "was this photo used?" page.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image

from imagine.dataset import revocations
from imagine.dataset.revocations import PostRevocation
from imagine.dataset.transform import phash_of, transform_image
from imagine.dataset.versions import latest_version, list_versions, open_images
from imagine.dataset.write import read_decisions
from imagine.images import open_image, read_capped


@dataclass
class Decision:
    version: int
    included: bool
    reason: str
    detail: str | None
    event_id: str | None
    event_ts: datetime | None


@dataclass
class PostHistory:
    post_id: str
    owner_id: str | None
    decisions: list[Decision]
    versions_included: list[int]
    still_present: bool
    latest_version: int
    revocation: PostRevocation | None
    models: list = field(default_factory=list)

    @property
    def summary(self) -> str:
        if not self.decisions:
            return f"{self.post_id}: never decided in this dataset"
        parts = [f"{self.post_id}: " + (f"in versions {self.versions_included}" if self.versions_included
                                         else f"never included ({self.decisions[-1].reason})")]
        r = self.revocation
        if r is not None:
            parts.append(f"revoked by {r.event_type} {r.event_id} at {r.event_ts:%Y-%m-%d %H:%M}Z")
            if r.applied_at:
                parts.append(f"removed in v{r.applied_version} at {r.applied_at:%Y-%m-%d %H:%M}Z")
            parts.append(f"purged in v{r.purged_version} at {r.purged_at:%Y-%m-%d %H:%M}Z" if r.purged_at
                         else "bytes not yet purged")
        parts.append("still in the latest version" if self.still_present else "not in the latest version")
        if self.models:
            parts.append("models trained on it: " + ", ".join(m.model_id for m in self.models))
        return "; ".join(parts)


def _registry(registry: Path | None) -> Path:
    if registry is not None:
        return Path(registry)
    from imagine.config import get_settings
    from imagine.model.registry import registry_path

    return registry_path(get_settings().data_home)


def _histories(dataset_dir: Path, where: str, registry: Path | None) -> list[PostHistory]:
    from imagine.model.registry import models_for_versions

    dataset_dir = Path(dataset_dir)
    latest = latest_version(dataset_dir)
    table = read_decisions(dataset_dir, filter=where).sort_by([("post_id", "ascending"),
                                                                ("dataset_version", "ascending")])
    revs = revocations.status(dataset_dir)
    reg = _registry(registry)
    grouped: dict[str, list[dict]] = {}
    for r in table.to_pylist():
        grouped.setdefault(r["post_id"], []).append(r)
    out = []
    for pid, rows in grouped.items():
        decisions = [Decision(r["dataset_version"], r["included"], r["reason"], r["detail"], r["event_id"],
                              r["event_ts"]) for r in rows]
        included = [d.version for d in decisions if d.included]
        models = models_for_versions(reg, str(dataset_dir / "images.lance"), set(included)) if included else []
        if not models and included:  # a trainer may have recorded the dataset folder instead
            models = models_for_versions(reg, str(dataset_dir), set(included))
        out.append(PostHistory(pid, rows[-1]["owner_id"], decisions, included, latest in included, latest,
                               revs.get(pid), models))
    return out


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def lookup_post(dataset_dir: Path, post_id: str, *, registry: Path | None = None) -> PostHistory:
    """The whole history of one post in this dataset (empty decisions: never seen)."""
    found = _histories(dataset_dir, f"post_id = {_quote(post_id)}", registry)
    if found:
        return found[0]
    return PostHistory(post_id, None, [], [], False, latest_version(dataset_dir), None)


def lookup_owner(dataset_dir: Path, owner_id: str, *, registry: Path | None = None) -> list[PostHistory]:
    """Histories of every post of an owner that any version decided."""
    return _histories(dataset_dir, f"owner_id = {_quote(owner_id)}", registry)


@dataclass
class Match:
    post_id: str
    owner_id: str
    distance: int  # Hamming bits between perceptual hashes (0 for an exact sha256 match)
    confidence: float  # 1.0 exact file; falls linearly to 0 at 2x the near-duplicate threshold
    versions: list[int]
    exact: bool = False


def _as_image(image) -> tuple[Image.Image, bytes | None]:  # noqa: ANN001 - path, bytes or PIL image
    if isinstance(image, Image.Image):
        return image, None
    data = read_capped(image)
    return open_image(data), data  # upright RGB; a hostile file raises ImageRejected before decoding


def lookup_image(dataset_dir: Path, image, *, max_distance: int | None = None, k: int = 5,
                 resolution: int | None = None, sha256: str | None = None) -> list[Match]:
    """Rows of the latest version that look like ``image``, nearest first.

    ``sha256`` (of the original file) adds the exact match when ``image`` is an already opened PIL image.
    """
    from imagine.config import get_settings

    settings = get_settings().dataset
    threshold = settings.phash_distance
    max_distance = 2 * threshold if max_distance is None else max_distance
    dataset_dir = Path(dataset_dir)
    ds = open_images(dataset_dir)
    img, data = _as_image(image)
    if data is not None:
        sha256 = hashlib.sha256(data).hexdigest()
    res = resolution or _resolution(dataset_dir) or settings.resolution
    _, bits = phash_of(transform_image(img, res))
    hits: dict[str, Match] = {}
    if sha256 is not None:
        exact = ds.to_table(columns=["post_id", "owner_id"], filter=f"sha256 = {_quote(sha256)}")
        for pid, oid in zip(exact.column("post_id").to_pylist(), exact.column("owner_id").to_pylist()):
            hits[pid] = Match(pid, oid, 0, 1.0, [], exact=True)
    if ds.count_rows():
        near = ds.to_table(columns=["post_id", "owner_id", "_distance"],
                           nearest={"column": "phash_bits", "q": bits.astype(np.float32), "k": k})
        for pid, oid, dist in zip(near.column("post_id").to_pylist(), near.column("owner_id").to_pylist(),
                                  near.column("_distance").to_pylist()):
            d = int(round(dist))
            if d <= max_distance and pid not in hits:
                hits[pid] = Match(pid, oid, d, round(max(0.0, 1 - d / (2 * max(threshold, 1))), 3), [])
    if hits:
        quoted = ", ".join(_quote(p) for p in hits)
        dec = read_decisions(dataset_dir, filter=f"included AND post_id IN ({quoted})",
                             columns=["post_id", "dataset_version"])
        for pid, v in zip(dec.column("post_id").to_pylist(), dec.column("dataset_version").to_pylist()):
            hits[pid].versions.append(v)
        for m in hits.values():
            m.versions.sort()
    return sorted(hits.values(), key=lambda m: (m.distance, m.post_id))


def _resolution(dataset_dir: Path) -> int | None:
    from imagine.dataset.card import read_card

    versions = list_versions(dataset_dir)
    return read_card(dataset_dir, versions[-1].version).get("resolution") if versions else None
