"""The dataset folder and its commit log: which versions exist, and recovery after a crash.

A dataset version is the Lance version of ``images.lance`` at which a build, apply-events or purge
finished (indices included). Several Lance commits make one of our versions (rows, then each
index), so ``versions.json`` is the commit point: a version is visible only once it is listed
there, and that file is replaced atomically as the very last step. ``recover`` rolls back what a
killed run left behind: images.lance is restored to the last listed version and decision rows of
unlisted versions are deleted, so a rerun starts from a clean, committed state.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from imagine.atomic import atomic_write

log = logging.getLogger(__name__)

IMAGES = "images.lance"
DECISIONS = "decisions.lance"
VERSIONS = "versions.json"
REVOCATIONS = "revocations.parquet"
CARDS = "cards"


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class VersionInfo:
    version: int
    kind: str  # build | apply-events | purge
    created_at: str
    rows: int
    policy_version: str
    card: str
    notes: dict = field(default_factory=dict)


def list_versions(dataset_dir: Path) -> list[VersionInfo]:
    """Committed versions, oldest first."""
    path = Path(dataset_dir) / VERSIONS
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [VersionInfo(**v) for v in data["versions"]]


def latest_version(dataset_dir: Path) -> int:
    """The newest committed dataset version; what a trainer should record in the model registry."""
    versions = list_versions(dataset_dir)
    if not versions:
        raise FileNotFoundError(f"{dataset_dir} holds no committed dataset version")
    return versions[-1].version


def commit_version(dataset_dir: Path, info: VersionInfo) -> None:
    versions = [v for v in list_versions(dataset_dir) if v.version != info.version] + [info]
    payload = {"versions": [asdict(v) for v in sorted(versions, key=lambda v: v.version)]}
    atomic_write(Path(dataset_dir) / VERSIONS, json.dumps(payload, indent=2))


def available_versions(dataset_dir: Path) -> list[int]:
    """Committed versions whose rows are still on disk (purge and retention remove old ones)."""
    import lance

    images = Path(dataset_dir) / IMAGES
    if not images.exists():
        return []
    on_disk = {v["version"] for v in lance.dataset(str(images)).versions()}
    return [v.version for v in list_versions(dataset_dir) if v.version in on_disk]


def open_images(dataset_dir: Path, version: int | None = None):
    """``images.lance`` at a committed version (default: the latest), as a ``lance.LanceDataset``."""
    import lance

    v = latest_version(dataset_dir) if version is None else int(version)
    if v not in {x.version for x in list_versions(dataset_dir)}:
        raise ValueError(f"version {v} is not a committed version of {dataset_dir}")
    if version is not None and v not in available_versions(dataset_dir):
        raise ValueError(f"version {v} of {dataset_dir} was removed by a purge or the retention window; "
                         "its decisions remain (lookup), its rows do not")
    return lance.dataset(str(Path(dataset_dir) / IMAGES), version=v)


def recover(dataset_dir: Path) -> None:
    """Undo whatever a killed run left uncommitted (see the module docstring)."""
    import lance

    dataset_dir = Path(dataset_dir)
    committed = list_versions(dataset_dir)
    images = dataset_dir / IMAGES
    if images.exists():
        if not committed:
            log.warning("removing %s: a first build was interrupted before it committed", images)
            shutil.rmtree(images)
        else:
            last = committed[-1].version
            ds = lance.dataset(str(images))
            if ds.version != last:
                log.warning("rolling %s back from uncommitted version %d to %d", images, ds.version, last)
                ds.checkout_version(last).restore()
    _recover_revocations(dataset_dir, {v.version for v in committed})
    decisions = dataset_dir / DECISIONS
    if decisions.exists():
        if not committed:
            shutil.rmtree(decisions)
            return
        ds = lance.dataset(str(decisions))
        predicate = f"dataset_version NOT IN ({', '.join(str(v.version) for v in committed)})"
        if ds.count_rows(filter=predicate):
            log.warning("deleting decision rows of uncommitted versions")
            ds.delete(predicate)


def _recover_revocations(dataset_dir: Path, committed: set[int]) -> None:
    """Forget revocation steps recorded for versions that never committed (they will be redone)."""
    import pyarrow as pa

    from imagine.dataset import revocations

    table = revocations.read(dataset_dir)
    if table.num_rows == 0:
        return
    rows = table.to_pylist()
    changed = False
    kept = []
    for r in rows:
        if r["applied_version"] not in committed:
            changed = True
            continue
        if r["purged_version"] is not None and r["purged_version"] not in committed:
            r["purged_version"] = r["purged_at"] = None
            changed = True
        kept.append(r)
    if changed:
        log.warning("forgetting revocation steps of uncommitted versions")
        revocations.write(dataset_dir, pa.Table.from_pylist(kept, schema=revocations.SCHEMA))
