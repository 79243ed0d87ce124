"""Build a new dataset version from a platform manifest: consent -> caption -> load -> transform
(map stages, any runner) -> dedupe -> write (driver), then indices, decisions, card, commit.

The export's ``events.jsonl`` beside the manifest is read by default, so a build never includes
a post whose revoking event the export already holds (``export_events=False`` / ``--no-events``
turns that off; ``events=`` names another log).

    imagine dataset build --manifest var/platform/posts.parquet --owners var/platform/owners.parquet \
        --policy src/imagine/dataset/policies/default.toml --out var/datasets/demo
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from imagine.dataset import revocations
from imagine.dataset import schema as s
from imagine.dataset.caption import CaptionStage
from imagine.dataset.card import code_version, file_digest, write_card
from imagine.dataset.consent import ConsentStage, Revocation
from imagine.dataset.dedupe import find_duplicates
from imagine.dataset.events import read_events, revocations_for
from imagine.dataset.load import LoadStage
from imagine.dataset.neardup import FingerprintIndex
from imagine.dataset.policy import Policy
from imagine.dataset.recaption import RecaptionStage, captioner_card, load_captioner
from imagine.dataset.reposts import copies_of, fingerprint_files
from imagine.dataset.runner import make_runner
from imagine.dataset.transform import TransformStage
from imagine.dataset.versions import VersionInfo, commit_version, now_utc, recover
from imagine.dataset.write import append_decisions, build_indices

log = logging.getLogger(__name__)

POST_COLUMNS = ("post_id", "owner_id", "image_uri", "caption", "visibility", "created_at", "deleted_at")
EVENTS_FILE = "events.jsonl"
OWNER_COLUMNS = ("owner_id", "region", "birth_year", "ai_training_opt_out", "created_at", "account_deleted_at")


@dataclass
class BuildReport:
    version: int
    dataset_dir: Path
    posts: int
    rows: int
    counts_by_reason: dict[str, int]
    stage_seconds: dict[str, float]
    seconds: float
    runner: str
    card_dir: Path
    timings: dict[str, float] = field(default_factory=dict)
    pool_cpu_seconds: float = 0.0  # CPU spent in local pool workers (for per-core rates)

    def rates(self) -> dict[str, float]:
        """Rows per second of each stage (stage CPU-side time, summed over workers)."""
        return {k: self.posts / v for k, v in self.stage_seconds.items() if v > 0}


def _require(table: pa.Table, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in table.schema.names]
    if missing:
        raise ValueError(f"{what} lacks required columns {missing} (see docs/interfaces.md)")


def _read_parquet(path: Path | str) -> pa.Table:
    """A local path or any fsspec URL (s3://, gs://, ...)."""
    if "://" in str(path):
        import fsspec

        with fsspec.open(str(path), "rb") as fh:
            return pq.read_table(fh)
    return pq.read_table(path)


def read_inputs(manifest: Path | str, owners: Path | str) -> pa.Table:
    """Posts joined with their owners (``owner_*`` columns); every post kept, even without owner."""
    posts = _read_parquet(manifest)
    owner_table = _read_parquet(owners)
    _require(posts, POST_COLUMNS, f"manifest {manifest}")
    _require(owner_table, OWNER_COLUMNS, f"owners table {owners}")
    if pc.count_distinct(posts.column("post_id")).as_py() != posts.num_rows:
        raise ValueError(f"manifest {manifest} repeats post ids; every post must appear once")
    rename = {"region": "owner_region", "birth_year": "owner_birth_year", "ai_training_opt_out": "owner_opt_out",
              "ai_training_opt_in": "owner_opt_in", "created_at": "owner_created_at"}
    keep = [c for c in owner_table.schema.names if c in rename or c in ("owner_id", "account_deleted_at")]
    owner_table = owner_table.select(keep).rename_columns([rename.get(c, c) for c in keep])
    joined = posts.select(list(POST_COLUMNS)).join(owner_table, "owner_id", join_type="left outer")
    return joined.sort_by("post_id").combine_chunks()


def export_events_path(manifest: Path | str) -> Path | str | None:
    """The export's ``events.jsonl`` beside the manifest, if there is one (local path or fsspec URL)."""
    text = str(manifest)
    if "://" in text:
        import fsspec

        url = text.rsplit("/", 1)[0] + "/" + EVENTS_FILE
        fs, path = fsspec.core.url_to_fs(url)
        return url if fs.exists(path) else None
    path = Path(manifest).resolve().parent / EVENTS_FILE
    return path if path.is_file() else None


def build_dataset(manifest: Path | str, owners: Path | str, policy: Path | None = None, out: Path | None = None, *,
                  events: Path | str | None = None, export_events: bool = True, ray_address: str | None = None,
                  workers: int = 1, batch_size: int = 1024, resolution: int | None = None,
                  captioner: str | Path | None = "checker", progress: bool = True) -> BuildReport:
    """Write a new version of the dataset at ``out``; see the module docstring.

    ``events``: the platform's event log (default: the export's ``events.jsonl`` beside the
    manifest when ``export_events``); posts it revokes (deleted, opted out, made non-public after
    the manifest snapshot) are decided ``revoked_by_event`` before anything is fetched.
    ``captioner``: writes ``descriptive_caption`` beside the user's caption (``recaption.load_captioner``:
    "checker", "none" or a local image-to-text model folder).
    """
    from imagine.config import get_settings

    settings = get_settings().dataset
    t_start = time.perf_counter()
    out = Path(out) if out is not None else get_settings().datasets_dir / "demo"
    out.mkdir(parents=True, exist_ok=True)
    recover(out)
    pol = Policy.load(policy)
    resolution = resolution or settings.resolution
    table = read_inputs(manifest, owners)
    base_dir = str(manifest).rsplit("/", 1)[0] if "://" in str(manifest) else str(Path(manifest).resolve().parent)
    revoked: dict[str, Revocation] = {}
    if events is None and export_events:
        events = export_events_path(manifest)
    if events is not None:  # platform events newer than the manifest snapshot still bind
        found = revocations_for(read_events(events), table.select(["post_id", "owner_id"]),
                                pol.allowed_visibilities)
        revoked = {pid: Revocation(ev.event_id, ev.type, ev.ts) for pid, ev in found.items()}
    revoked.update({r["post_id"]: Revocation(r["event_id"], r["event_type"], r["event_ts"])
                    for r in revocations.read(out).to_pylist()})
    describer = load_captioner(captioner)
    as_of = pol.as_of or datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    stages = [
        ConsentStage(pol, as_of, revoked),
        CaptionStage(pol),
        LoadStage(base_dir, resolution, settings.max_pixels, settings.min_side),
        TransformStage(resolution),
        *([RecaptionStage(describer)] if describer is not None else []),
    ]
    runner = make_runner(ray_address=ray_address, workers=workers, progress=progress)
    t0 = time.perf_counter()
    output = runner.run(table, stages, batch_size=batch_size)
    t_stages = time.perf_counter() - t0

    # Copies of protected pictures (revoked, deleted, opted out) go, whoever posted them.
    t0 = time.perf_counter()
    meta = output.meta.sort_by("post_id")
    copies: dict[str, str] = {}
    if pol.revoke_near_duplicates:
        copies = _copies_of_protected(table, meta, base_dir, settings)
    t_copies = time.perf_counter() - t0

    # Dedupe among the rows still included, then write the kept ones.
    t0 = time.perf_counter()
    inc = meta.filter(pc.field("included") & ~pc.field("post_id").isin(pa.array(sorted(copies), pa.string())))
    dupes = find_duplicates(inc.column("post_id").to_pylist(), inc.column("sha256").to_pylist(),
                            inc.column("phash").to_pylist(), inc.column("created_at").to_pylist(),
                            max_distance=settings.phash_distance)
    keep = set(inc.column("post_id").to_pylist()) - set(dupes)
    t_dedupe = time.perf_counter() - t0
    t0 = time.perf_counter()
    from imagine.dataset.write import write_mode

    output.write_images(out, keep, write_mode(out), pol.label)
    version = build_indices(out)
    t_write = time.perf_counter() - t0

    decided_at = now_utc()
    rows = meta.to_pylist()
    for r in rows:
        if r["post_id"] in copies:
            r.update(included=False, reason=s.COPY_OF_EXCLUDED, detail=copies[r["post_id"]])
        elif r["post_id"] in dupes:
            r.update(included=False, reason=s.DUPLICATE_OF, detail=dupes[r["post_id"]])
    decisions = pa.Table.from_pylist([
        {"dataset_version": version, "post_id": r["post_id"], "owner_id": r["owner_id"], "included": r["included"],
         "reason": r["reason"], "detail": r["detail"], "event_id": r["event_id"], "event_ts": r["event_ts"],
         "policy_version": pol.label, "decided_at": decided_at} for r in rows], schema=s.DECISIONS_SCHEMA)
    append_decisions(out, decisions)
    counts = dict(Counter(r["reason"] for r in rows))
    stage_seconds = dict(output.stage_seconds, copies=t_copies, dedupe=t_dedupe, write=t_write)
    card = {
        "dataset": out.name, "version": version, "kind": "build", "created_at": decided_at.isoformat(),
        "rows": len(keep), "posts": len(rows), "counts_by_reason": counts, "resolution": resolution,
        "policy": {"label": pol.label, "name": pol.name, "version": pol.version, "digest": pol.digest,
                   "source": pol.source, "as_of": as_of.isoformat()},
        "sources": {"manifest": file_digest(manifest), "owners": file_digest(owners),
                    "events": file_digest(events), "events_path": str(events) if events else None,
                    "manifest_path": str(manifest), "owners_path": str(owners)},
        "code_version": code_version(), "runner": runner.name, "captioner": captioner_card(describer),
        "rows_per_second": {k: round(len(rows) / v, 1) for k, v in stage_seconds.items() if v > 0},
    }
    cdir = write_card(out, card)
    commit_version(out, VersionInfo(version, "build", decided_at.isoformat(), len(keep), pol.label,
                                    str(cdir.relative_to(out))))
    _tag(out, version)
    report = BuildReport(version, out, len(rows), len(keep), counts, stage_seconds,
                         time.perf_counter() - t_start, runner.name, cdir,
                         {"stages": t_stages, "dedupe": t_dedupe, "write": t_write}, output.pool_cpu_seconds)
    log.info("dataset %s v%d: %d rows of %d posts in %.1fs", out, version, len(keep), len(rows), report.seconds)
    return report


def _copies_of_protected(table: pa.Table, meta: pa.Table, base_dir: str, settings) -> dict[str, str]:
    """``{included post: protected post (reason)}`` for included rows that copy a protected picture."""
    protected = meta.filter(pc.is_in(meta.column("reason"), pa.array(s.COPY_PROTECTED, pa.string())))
    inc = meta.filter(pc.field("included"))
    if not protected.num_rows or not inc.num_rows:
        return {}
    reason_of = dict(zip(protected.column("post_id").to_pylist(), protected.column("reason").to_pylist()))
    files = table.filter(pc.is_in(table.column("post_id"), protected.column("post_id"))).select(["post_id", "image_uri"])
    probes = fingerprint_files(files.to_pylist(), base_dir, max_pixels=settings.max_pixels, min_side=settings.min_side)
    index = FingerprintIndex.from_columns(inc.column("fp_hashes").to_pylist(), inc.column("fp_thumb").to_pylist())
    found = copies_of(index, inc.column("post_id").to_pylist(), inc.column("sha256").to_pylist(), probes)
    return {pid: f"{rid} ({reason_of[rid]})" for pid, rid in found.items()}


def _tag(dataset_dir: Path, version: int) -> None:
    """Tag a committed version ``v<N>`` so plain Lance tools see it too (purge removes old tags)."""
    import lance

    from imagine.dataset.write import images_uri

    ds = lance.dataset(images_uri(dataset_dir))
    name = f"v{version}"
    if name not in ds.tags.list():
        ds.tags.create(name, version)
