"""Purge: make revoked images physically gone from the dataset folder, then prove it.

    imagine dataset purge --out var/datasets/demo

A Lance delete only marks rows; the bytes stay in the data files and every older version still
returns them. Purge therefore (1) compacts with materialised deletions (threshold 0: every
fragment holding a deleted row is rewritten), (2) rebuilds the indices (no index file may keep a
revoked post's vector or id), (3) deletes the tags of old versions and cleans up every version
older than the new one, unverified files of killed writes included, and (4) scans every file
under the dataset folder for the revoked images' bytes and hashes (``proof.py``).

Retention: with nothing to erase, purge keeps old versions for ``settings.dataset.retention_days``
days (reproducibility of past trainings). An erasure overrides that window: every version that
still holds a revoked image is removed, however young. This is what a GDPR erasure request runs.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pyarrow as pa

from imagine.dataset import revocations
from imagine.dataset.card import code_version, read_card, write_card
from imagine.dataset.proof import Proof, prove_absent
from imagine.dataset.versions import (
    IMAGES, VersionInfo, commit_version, latest_version, now_utc, recover,
)
from imagine.dataset.write import append_decisions, build_indices, read_decisions

log = logging.getLogger(__name__)

NEEDLE_COLUMNS = ["post_id", "image", "sha256", "phash", "phash_bits", "fp_hashes", "fp_thumb"]
CONTROL_ROWS = 3


@dataclass
class PurgeReport:
    version: int
    purged_posts: int
    versions_removed: int
    bytes_removed: int
    proof: Proof
    missing_needles: list[str]
    seconds: float
    timings: dict[str, float]


def _needle_rows(dataset_dir: Path, post_ids: list[str]) -> tuple[list[dict], list[str]]:
    """Rows of the posts to erase, read from the newest committed version still on disk that has them."""
    import lance

    uri = str(Path(dataset_dir) / IMAGES)
    on_disk = {v["version"] for v in lance.dataset(uri).versions()}
    dec = read_decisions(dataset_dir, filter="included", columns=["dataset_version", "post_id"])
    wanted = set(post_ids)
    last: dict[str, int] = {}
    for v, pid in zip(dec.column("dataset_version").to_pylist(), dec.column("post_id").to_pylist()):
        if pid in wanted and v in on_disk and v > last.get(pid, -1):
            last[pid] = v
    by_version: dict[int, list[str]] = defaultdict(list)
    for pid, v in last.items():
        by_version[v].append(pid)
    rows: list[dict] = []
    for v, pids in by_version.items():
        quoted = ", ".join("'" + p.replace("'", "''") + "'" for p in pids)
        rows += lance.dataset(uri, version=v).to_table(columns=NEEDLE_COLUMNS,
                                                       filter=f"post_id IN ({quoted})").to_pylist()
    found = {r["post_id"] for r in rows}
    return rows, sorted(wanted - found)


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def purge(dataset_dir: Path, *, retention_days: int | None = None) -> PurgeReport:
    """Erase every applied revocation physically and prove it; see the module docstring."""
    import lance

    from imagine.config import get_settings

    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    dataset_dir = Path(dataset_dir)
    recover(dataset_dir)
    retention = get_settings().dataset.retention_days if retention_days is None else retention_days
    if retention < 0:
        raise ValueError("retention_days must be >= 0")
    base = latest_version(dataset_dir)
    revs = revocations.read(dataset_dir).to_pylist()
    todo = [r for r in revs if r["purged_at"] is None]
    todo_ids = [r["post_id"] for r in todo]
    size_before = _dir_size(dataset_dir)

    t0 = time.perf_counter()
    erased_rows, missing = _needle_rows(dataset_dir, todo_ids)
    timings["collect"] = time.perf_counter() - t0
    if missing:
        log.warning("%d revoked posts have no version left on disk to take needles from "
                    "(an interrupted purge already removed them); they are proven absent by id only", len(missing))

    uri = str(dataset_dir / IMAGES)
    t0 = time.perf_counter()
    ds = lance.dataset(uri)
    ds.optimize.compact_files(materialize_deletions=True, materialize_deletions_threshold=0.0)
    timings["compact"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    version = build_indices(dataset_dir)
    timings["reindex"] = time.perf_counter() - t0

    # Commit the compacted version first: from here on a kill leaves a committed, consistent
    # dataset, and a rerun of purge finishes the cleanup and the proof.
    purged_at = now_utc()
    prev = read_decisions(dataset_dir, filter=f"dataset_version = {base}")
    rows = prev.to_pylist()
    for r in rows:
        r["dataset_version"], r["decided_at"] = version, purged_at
    append_decisions(dataset_dir, pa.Table.from_pylist(rows, schema=prev.schema))
    prev_card = read_card(dataset_dir, base)
    card = dict(prev_card, version=version, kind="purge", created_at=purged_at.isoformat(), parent_version=base,
                code_version=code_version(), purge={"posts": len(todo_ids), "retention_days": retention})
    card.pop("events", None)
    card.pop("rows_per_second", None)
    cdir = write_card(dataset_dir, card)
    info = VersionInfo(version, "purge", purged_at.isoformat(), prev_card["rows"], prev_card["policy"]["label"],
                       str(cdir.relative_to(dataset_dir)), {"parent": base, "purged": len(todo_ids)})
    commit_version(dataset_dir, info)

    t0 = time.perf_counter()
    ds = lance.dataset(uri)
    older_than = timedelta(0) if todo else timedelta(days=retention)
    cutoff = now_utc() - older_than
    for name, tag in list(ds.tags.list().items()):
        tagged = tag["version"] if isinstance(tag, dict) else tag.version
        if tagged != version and (todo or _version_time(ds, tagged) < cutoff):
            ds.tags.delete(name)
    stats = ds.cleanup_old_versions(older_than=older_than, delete_unverified=True,
                                    error_if_tagged_old_versions=False)
    dec = lance.dataset(str(dataset_dir / "decisions.lance"))
    dec.cleanup_old_versions(older_than=older_than, delete_unverified=True, error_if_tagged_old_versions=False)
    timings["cleanup"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    control = lance.dataset(uri).to_table(columns=NEEDLE_COLUMNS, limit=CONTROL_ROWS).to_pylist()
    proof = prove_absent(dataset_dir, erased_rows, control)
    timings["proof"] = time.perf_counter() - t0
    card["purge"].update(old_versions_removed=stats.old_versions, proof=proof.as_dict())
    write_card(dataset_dir, card)
    info.notes["proof"] = "erased" if proof.erased else ("FOUND" if proof.hits else "inconclusive")
    commit_version(dataset_dir, info)
    if proof.hits:
        raise RuntimeError(f"purge could not erase: {len(proof.hits)} needles still found in "
                           f"{sorted({h.path for h in proof.hits})}")
    done = set(todo_ids)
    stamp = now_utc()
    for r in revs:
        if r["post_id"] in done:
            r["purged_version"], r["purged_at"] = version, stamp
    revocations.write(dataset_dir, pa.Table.from_pylist(revs, schema=revocations.SCHEMA))
    ds = lance.dataset(uri)
    if f"v{version}" not in ds.tags.list():
        ds.tags.create(f"v{version}", version)
    report = PurgeReport(version, len(todo_ids), stats.old_versions, max(0, size_before - _dir_size(dataset_dir)),
                         proof, missing, time.perf_counter() - t_start, timings)
    log.info("purge v%d: %d posts erased, proof %s", version, len(todo_ids), proof.as_dict())
    return report


def _version_time(ds, version: int):
    for v in ds.versions():
        if v["version"] == version:
            ts = v["timestamp"]
            return ts if ts.tzinfo else ts.astimezone()
    return now_utc()


__all__ = ["purge", "PurgeReport"]
