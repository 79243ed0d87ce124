"""Generate the demo photo platform export: `imagine platform demo --posts N --seed S --out DIR`.

Streamed: posts are planned, encoded (in worker processes) and written to Parquet one block at a time, so
memory stays bounded for any corpus size. Deterministic: the same seed gives byte-identical files.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import time
from contextlib import ExitStack
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from imagine.atomic import atomic_write
from imagine.platform import schema
from imagine.platform.claim_codes import CODES_FILE, HASHES_FILE, issue_claim_codes
from imagine.platform.files import write_plan
from imagine.platform.planner import EU_REGIONS, CorpusPlanner, PostPlan
from imagine.platform.summary import DemoSummary
from imagine.progress import progress_bar

log = logging.getLogger(__name__)

BLOCK = 2048  # posts per block: one Parquet row group each, and the unit of work handed to the pool
OUTPUTS = ("posts.parquet", "owners.parquet", "events.jsonl", "scenes.parquet", "truth.parquet", CODES_FILE, HASHES_FILE)


class _ParquetSink:
    """Writes a table row group by row group to a temporary file, moved into place on close."""

    def __init__(self, path: Path, table_schema: pa.Schema) -> None:
        self.path, self.schema = path, table_schema
        self.tmp = path.with_name(path.name + ".tmp")
        self.writer = pq.ParquetWriter(self.tmp, table_schema, **schema.PARQUET_OPTIONS)

    def write(self, columns: dict[str, list]) -> None:
        self.writer.write_table(pa.Table.from_pydict(columns, schema=self.schema))

    def close(self) -> None:
        self.writer.close()
        os.replace(self.tmp, self.path)


def _columns(block: list[PostPlan]) -> tuple[dict, dict, dict]:
    posts = {
        "post_id": [p.post_id for p in block],
        "owner_id": [p.owner_id for p in block],
        "image_uri": [p.image_uri for p in block],
        "caption": [p.caption for p in block],
        "visibility": [p.visibility for p in block],
        "created_at": [p.created_at for p in block],
        "deleted_at": [p.deleted_at for p in block],
    }
    scenes = {"post_id": posts["post_id"], "scene_json": [p.scene.to_json() for p in block]}
    truth = {"post_id": posts["post_id"], "tags": [p.tags for p in block], "duplicate_of": [p.duplicate_of for p in block]}
    return posts, scenes, truth


def _count(summary: DemoSummary, block: list[PostPlan], planner: CorpusPlanner, originals_copied: set[str]) -> None:
    for p in block:
        summary.posts += 1
        summary.by_visibility[p.visibility] += 1
        summary.deleted_posts += p.deleted_at is not None
        summary.tags.update(p.tags)
        owner = planner.owners[int(p.owner_id[1:])]
        summary.opted_out_posts += owner.ai_training_opt_out
        summary.minor_posts += owner.minor
        summary.reserved_by_metadata += p.file.dmi_prohibited or p.file.cawg_not_allowed
        summary.corrupt_files += p.file.corruption is not None
        if p.duplicate_of is not None:
            summary.duplicates += 1
            originals_copied.add(p.duplicate_of)


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def generate_demo(out: Path, posts: int = 3000, seed: int = 0, *, progress: bool = True, workers: int | None = None) -> DemoSummary:
    """Write a demo platform export of ``posts`` posts under ``out`` (replacing a previous one there)."""
    if posts < 1:
        raise ValueError(f"posts must be at least 1, got {posts}")
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / "images", ignore_errors=True)
    for shard in range(256):
        (out / "images" / f"{shard:02x}").mkdir(parents=True, exist_ok=True)

    planner = CorpusPlanner(posts, seed)
    summary = DemoSummary(out=out)
    originals_copied: set[str] = set()
    workers = default_workers() if workers is None else workers
    with ExitStack() as stack:
        pool = stack.enter_context(multiprocessing.get_context("fork").Pool(workers)) if workers > 1 else None
        sinks = {
            name: _ParquetSink(out / f"{name}.parquet", table_schema)
            for name, table_schema in (("posts", schema.POSTS_SCHEMA), ("scenes", schema.SCENES_SCHEMA), ("truth", schema.TRUTH_SCHEMA))
        }
        bar = stack.enter_context(progress_bar(disable=not progress))
        task = bar.add_task("demo posts", total=posts)
        for start in range(0, posts, BLOCK):
            block = [planner.plan(i) for i in range(start, min(posts, start + BLOCK))]
            jobs = [(out / p.image_uri, p.file) for p in block]
            if pool is None:
                for job in jobs:
                    write_plan(job)
            else:
                pool.map(write_plan, jobs, chunksize=32)
            for name, columns in zip(("posts", "scenes", "truth"), _columns(block)):
                sinks[name].write(columns)
            _count(summary, block, planner, originals_copied)
            bar.advance(task, len(block))
        for sink in sinks.values():
            sink.close()

    owners = planner.owners
    owners_table = pa.Table.from_pydict(
        {
            "owner_id": [o.owner_id for o in owners],
            "region": [o.region for o in owners],
            "birth_year": [o.birth_year for o in owners],
            "ai_training_opt_out": [o.ai_training_opt_out for o in owners],
            "created_at": [o.created_at for o in owners],
            "account_deleted_at": [o.account_deleted_at for o in owners],
        },
        schema=schema.OWNERS_SCHEMA,
    )
    tmp = out / "owners.parquet.tmp"
    pq.write_table(owners_table, tmp, row_group_size=65536, **schema.PARQUET_OPTIONS)
    os.replace(tmp, out / "owners.parquet")

    events = planner.sorted_events()
    atomic_write(out / "events.jsonl", "".join(schema.event_line(e) for e in events))
    issue_claim_codes(out, [o.owner_id for o in owners])  # random (secrets), never from the seed

    summary.owners = len(owners)
    summary.opted_out_owners = sum(o.ai_training_opt_out for o in owners)
    summary.minor_owners = sum(o.minor for o in owners)
    summary.deleted_accounts = sum(o.account_deleted_at is not None for o in owners)
    summary.regions.update(o.region for o in owners)
    summary.eu_owners = sum(o.region in EU_REGIONS for o in owners)
    summary.duplicate_groups = len(originals_copied)
    summary.events.update(e["type"] for e in events)
    summary.seconds = time.perf_counter() - started
    log.info("wrote %d posts to %s in %.1fs", posts, out, summary.seconds)
    return summary
