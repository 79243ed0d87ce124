"""Runners: the same stage objects, run in-process, in a process pool, or on Ray Data.

A runner maps a chain of stages over record batches and returns a ``StageOutput``: the small
per-row metadata (ids, decisions, hashes; no pixels) for the global steps on the driver, and
``write_images`` to write the kept rows. Nothing in a stage knows which runner runs it.

- ``LocalRunner(workers=1)``: in-process (the default; on a small machine Ray's start-up and
  scheduling overhead cost more than they give). ``workers > 1``: a forkserver process pool.
- ``RayRunner(address)``: ``ray.data`` ``map_batches`` with the same stage objects; the kept rows
  are written from the Ray workers with ``lance_ray.write_lance``.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from imagine.dataset import schema as s
from imagine.dataset.write import image_rows, write_images_local

log = logging.getLogger(__name__)

Stage = Callable[[pa.RecordBatch], pa.RecordBatch]

META_COLUMNS = ["post_id", "owner_id", "created_at", "included", "reason", "detail", "event_id", "event_ts",
                "sha256", "phash", "fp_hashes", "fp_thumb"]


def stage_name(stage: Stage) -> str:
    return type(stage).__name__.removesuffix("Stage").lower()


def run_chain(stages: Sequence[Stage], batch: pa.RecordBatch) -> tuple[pa.RecordBatch, list[float], float]:
    """Apply every stage to one batch; also returns the seconds each stage took and the CPU seconds used."""
    seconds = []
    c0 = time.process_time()
    for stage in stages:
        t0 = time.perf_counter()
        batch = stage(batch)
        seconds.append(time.perf_counter() - t0)
    return batch, seconds, time.process_time() - c0


@dataclass
class StageOutput:
    """What the stages produced; ``stage_seconds`` is summed over workers (CPU-side time)."""

    meta: pa.Table
    stage_seconds: dict[str, float]
    write_images: Callable[[Path, set[str], str, str], None]
    pool_cpu_seconds: float = 0.0  # CPU used in worker processes of a local pool (not in this process)


@dataclass
class LocalRunner:
    workers: int = 1
    progress: bool = True
    name: str = field(default="local", init=False)

    def run(self, table: pa.Table, stages: Sequence[Stage], *, batch_size: int = 256) -> StageOutput:
        from imagine.progress import progress_bar

        if self.workers > 1:  # several tasks per worker, so no worker idles at the end
            batch_size = max(64, min(batch_size, -(-table.num_rows // (4 * self.workers))))
        batches = table.to_batches(max_chunksize=batch_size)
        names = [stage_name(st) for st in stages]
        totals = dict.fromkeys(names, 0.0)
        cpu = [0.0]
        results: list[pa.RecordBatch] = []
        with progress_bar(disable=not self.progress) as bar:
            tasks = {n: bar.add_task(f"{n:<9}", total=table.num_rows) for n in names}

            def collect(out: pa.RecordBatch, secs: list[float], cpu_secs: float) -> None:
                cpu[0] += cpu_secs
                results.append(out)
                for n, sec in zip(names, secs):
                    totals[n] += sec
                    bar.advance(tasks[n], out.num_rows)

            if self.workers <= 1:
                for b in batches:
                    collect(*run_chain(stages, b))
            else:
                # Workers fork from a clean server that has already imported what the stages use
                # (stages_preload), so none pays imports; lance/tokio threads of this process never fork.
                # The driver only collects: dedupe and the write need every row's hash first.
                ctx = mp.get_context("forkserver")
                ctx.set_forkserver_preload(["imagine.dataset.stages_preload"])
                with ProcessPoolExecutor(self.workers, mp_context=ctx) as pool:
                    futures = [pool.submit(run_chain, stages, b) for b in batches]
                    for fut in futures:
                        collect(*fut.result())
        full = pa.Table.from_batches(results) if results else None
        if full is None:
            raise ValueError("the manifest has no rows")

        def write(dataset_dir: Path, keep: set[str], mode: str, policy_version: str) -> None:
            mask = pc.is_in(full.column("post_id"), pa.array(sorted(keep), pa.string()))
            rows = full.filter(mask).sort_by("post_id")
            write_images_local(image_rows(rows, policy_version), dataset_dir)

        return StageOutput(full.select(META_COLUMNS), totals, write, cpu[0] if self.workers > 1 else 0.0)


@dataclass
class RayRunner:
    address: str | None = None
    progress: bool = True
    name: str = field(default="ray", init=False)

    def run(self, table: pa.Table, stages: Sequence[Stage], *, batch_size: int = 256) -> StageOutput:
        import ray

        if not ray.is_initialized():
            address = None if self.address in (None, "local") else self.address
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False,
                     include_dashboard=False)
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = self.progress
        blocks = max(1, -(-table.num_rows // batch_size))
        ds = ray.data.from_arrow(table).repartition(blocks)
        t0 = time.perf_counter()
        for stage in stages:
            ds = ds.map_batches(stage, batch_format="pyarrow", batch_size=batch_size, zero_copy_batch=True)
        ds = ds.materialize()
        elapsed = time.perf_counter() - t0
        meta = pa.concat_tables(ray.get(ds.select_columns(META_COLUMNS).to_arrow_refs()))

        def write(dataset_dir: Path, keep: set[str], mode: str, policy_version: str) -> None:
            import lance_ray

            from imagine.dataset.write import images_uri

            keep_arr = pa.array(sorted(keep), pa.string())

            def select(batch: pa.Table) -> pa.Table:
                mask = pc.is_in(batch.column("post_id"), keep_arr)
                return image_rows(batch.filter(mask), policy_version)

            rows = ds.map_batches(select, batch_format="pyarrow").sort("post_id")
            lance_ray.write_lance(rows, images_uri(dataset_dir), schema=s.IMAGES_SCHEMA, mode=mode)

        return StageOutput(meta, {"all stages (ray)": elapsed}, write)


def make_runner(*, ray_address: str | None = None, workers: int = 1, progress: bool = True):
    return RayRunner(ray_address, progress) if ray_address else LocalRunner(workers, progress)
