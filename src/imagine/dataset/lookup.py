"""Lineage and lookup: "was this photo used, where, and is it still?"

- ``lookup_post`` / ``lookup_owner``: every committed version's decision for the post(s), the
  versions that contained it, its revocation state (revoked at t, purged at t'), and the models
  trained on any of those versions (``imagine.model.registry.models_for_versions``).
- ``lookup_image``: an image (file, bytes or PIL image) matched against the latest version by its
  crop-robust fingerprint (``neardup.py``: window hashes, then an aligned pixel check), so a
  cropped, re-encoded or resized copy is found, plus exact sha256 when given the original bytes.
  Used by the memorization guard and the owners' "was this photo used?" page.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from PIL import Image

from imagine.dataset import neardup, revocations
from imagine.dataset.revocations import PostRevocation
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
    distance: int  # Hamming bits between the best frame/window hash pair (0 for an exact sha256 match)
    confidence: float  # 1.0 exact file or identical pixels; falls linearly to 0 at 2x neardup.MAX_RMSE
    versions: list[int]
    exact: bool = False
    rmse: float = 0.0  # pixel distance of the aligned check (8-bit levels); 0 for an exact file


def _as_image(image) -> tuple[Image.Image, bytes | None]:  # noqa: ANN001 - path, bytes or PIL image
    if isinstance(image, Image.Image):
        return image, None
    data = read_capped(image)
    return open_image(data), data  # upright RGB; a hostile file raises ImageRejected before decoding


def confidence(rmse: float) -> float:
    return round(max(0.0, 1 - rmse / (2 * neardup.MAX_RMSE)), 3)


def match_version(ds, image: Image.Image, sha256: str | None, *, max_rmse: float) -> dict[str, Match]:
    """Rows of one Lance version of images.lance that hold ``image``: exact file (``sha256`` of the
    original file, when known), or a confirmed copy."""
    table = ds.to_table(columns=["post_id", "owner_id", "sha256", "fp_hashes", "fp_thumb"])
    ids, owners = table.column("post_id").to_pylist(), table.column("owner_id").to_pylist()
    hits: dict[str, Match] = {}
    if sha256 is not None:
        for pid, oid, sha in zip(ids, owners, table.column("sha256").to_pylist()):
            if sha == sha256:
                hits[pid] = Match(pid, oid, 0, 1.0, [], exact=True)
    index = neardup.FingerprintIndex.from_columns(table.column("fp_hashes").to_pylist(),
                                                  table.column("fp_thumb").to_pylist())
    for row, dist, rmse in index.matches(neardup.fingerprint(image), max_rmse=max_rmse):
        if ids[row] not in hits:
            hits[ids[row]] = Match(ids[row], owners[row], dist, confidence(rmse), [], rmse=round(rmse, 2))
    return hits


def lookup_image(dataset_dir: Path, image, *, max_rmse: float | None = None, sha256: str | None = None) -> list[Match]:
    """Rows of the latest version that hold ``image`` (also cropped, re-encoded, resized), nearest first.

    ``max_rmse``: pixel distance of the check (default ``neardup.MAX_RMSE``; the owners' page asks
    for twice that to also report "possibly"). ``sha256`` (of the original file) adds the exact
    match when ``image`` is an already opened PIL image.
    """
    dataset_dir = Path(dataset_dir)
    img, data = _as_image(image)
    if data is not None:
        sha256 = hashlib.sha256(data).hexdigest()
    hits = match_version(open_images(dataset_dir), img, sha256,
                         max_rmse=neardup.MAX_RMSE if max_rmse is None else max_rmse)
    if hits:
        quoted = ", ".join(_quote(p) for p in hits)
        dec = read_decisions(dataset_dir, filter=f"included AND post_id IN ({quoted})",
                             columns=["post_id", "dataset_version"])
        for pid, v in zip(dec.column("post_id").to_pylist(), dec.column("dataset_version").to_pylist()):
            hits[pid].versions.append(v)
        for m in hits.values():
            m.versions.sort()
    return sorted(hits.values(), key=lambda m: (not m.exact, m.rmse, m.distance, m.post_id))
