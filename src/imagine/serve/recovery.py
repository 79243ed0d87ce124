"""What a start-up does with the work a crash (kill -9, power loss, OOM) interrupted.

- Jobs left ``running`` by this instance are **failed** with ``error_code = "interrupted"``: a job that was
  running when the process died may be what killed it (a request that runs out of memory would do it
  again at every restart), and its half-made batch is gone anyway.
- Jobs left ``queued`` by this instance are **queued again**, oldest first, from what their row recorded
  (prompt and parameters): nothing of them had started, and their users are still waiting. One that can no
  longer be queued (a generator no longer configured, the queue full) is failed as ``interrupted`` too.
- Image files with no row in ``images`` are deleted: the delivery writes the file before the row, so a crash
  in between leaves a complete PNG that no user can see or delete. Leftover temporary files of interrupted
  atomic writes go as well. Files younger than a few seconds are left alone (another live process sharing
  the image folder may be between its file and its row).

Only jobs whose ``instance`` is this process's (`ServeSettings.instance`) are touched, so processes that share
one database recover their own work and never another live process's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from sqlalchemy import select, update

from imagine.db.models import Image, Job, utcnow
from imagine.generate.requests import GenerationRequest
from imagine.serve.context import ServiceContext
from imagine.serve.jobqueue import QueueFull
from imagine.serve.livejob import DEFAULT_GENERATOR

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted"
SWEEP_GRACE_S = 10.0  # far longer than a delivery takes between writing a file and committing its row
REQUEST_FIELDS = ("n", "seed", "steps", "guidance", "negative_prompt", "sampler")


@dataclass
class Recovered:
    failed: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)
    swept_files: int = 0


def recover(ctx: ServiceContext, loop: asyncio.AbstractEventLoop) -> Recovered:
    """Fail this instance's interrupted running jobs, queue its waiting ones again, sweep orphaned files.
    Call once at start-up, after the worker exists and before requests are served."""
    worker = ctx.worker
    if worker is None:
        raise RuntimeError("recover() needs the worker")
    out = Recovered()
    with ctx.sessions() as db:
        running = list(db.scalars(select(Job.id).where(Job.instance == ctx.instance, Job.status == "running")))
        queued = list(db.scalars(select(Job).where(Job.instance == ctx.instance, Job.status == "queued")
                                 .order_by(Job.created_at)))
    _fail(ctx, running, "The server stopped while this job was running; nothing was delivered. Ask again.")
    out.failed.extend(running)
    for row in queued:
        generator = row.params.get("generator", DEFAULT_GENERATOR)
        try:
            if generator not in ctx.generators:
                raise ValueError(f"the generator {generator!r} is no longer configured")
            if row.params.get("edit"):
                raise ValueError("an edit's input image is held in memory only")
            request = GenerationRequest(prompt=row.prompt, **{k: row.params[k] for k in REQUEST_FIELDS
                                                               if row.params.get(k) is not None})
            worker.submit(row.id, row.user_id, request, loop, generator=generator)
        except (ValueError, QueueFull) as exc:
            _fail(ctx, [row.id], f"The server restarted and could not queue this job again ({exc}). Ask again.")
            out.failed.append(row.id)
            continue
        out.requeued.append(row.id)
    out.swept_files = sweep_orphans(ctx)
    if out.failed or out.requeued or out.swept_files:
        log.warning("recovered after a restart: %d interrupted job(s) failed, %d queued again, %d orphaned "
                    "file(s) removed", len(out.failed), len(out.requeued), out.swept_files)
    return out


def _fail(ctx: ServiceContext, job_ids: list[str], message: str) -> None:
    if not job_ids:
        return
    with ctx.sessions.begin() as db:
        db.execute(update(Job).where(Job.id.in_(job_ids)).values(
            status="failed", error_code=INTERRUPTED, error_message=message, finished_at=utcnow()))


def sweep_orphans(ctx: ServiceContext, *, grace_s: float = SWEEP_GRACE_S) -> int:
    """Delete image files that no row points at (and temporary files of interrupted writes) and that are
    older than ``grace_s``, so a file another live process has just written, its row not yet committed, stays."""
    root = ctx.store.root
    cutoff = time.time() - grace_s
    with ctx.sessions() as db:
        known = set(db.scalars(select(Image.path)))
    removed = 0
    for path in root.glob("*/*"):
        rel = path.relative_to(root).as_posix()
        if rel in known or not path.is_file() or path.stat().st_mtime > cutoff:
            continue
        path.unlink(missing_ok=True)
        removed += 1
    return removed
