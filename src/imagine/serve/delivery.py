"""The service's sink: stamped images to the image store and the database, and each job's state in its row.

The guarded path (`imagine.guarded.GuardedGenerator.finish`) has already checked and stamped every image;
this module only files what it delivered under ``images_dir/<user>/<image>.png`` with a row in ``images``
(files first, rows after, so a row never points at a missing file; a file left without a row by a crash is
swept at the next start-up) and counts what was withheld.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from imagine.db.models import Image, Job, new_id, utcnow
from imagine.guarded import Outcome, Sink
from imagine.serve.imagestore import ImageStore
from imagine.serve.livejob import FINAL
from imagine.serve.metrics import Metrics


@dataclass
class Delivered:
    image_ids: list[str] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    blocked: int = 0
    flags: list[str] = field(default_factory=list)


class Delivery:
    def __init__(self, sessions: sessionmaker[Session], store: ImageStore, metrics: Metrics) -> None:
        self.sessions, self.store, self.metrics = sessions, store, metrics

    def sink(self, job_id: str, user_id: str) -> Sink[Delivered]:
        """The sink for one job's outcome."""
        return functools.partial(self.write, job_id, user_id)

    def write(self, job_id: str, user_id: str, outcome: Outcome) -> Delivered:
        request = outcome.request
        out = Delivered(blocked=len(outcome.withheld), flags=outcome.withheld_flags)
        for flag in out.flags:
            self.metrics.output_blocked.labels(flag=flag).inc()
        params = {"steps": request.steps, "guidance": request.guidance, "sampler": request.sampler,
                  "negative_prompt": request.negative_prompt, "model_id": outcome.model_id}
        source_image_id = None
        if request.is_edit:
            with self.sessions() as db:  # which gallery image it came from is the job's business, not the request's
                job = db.get(Job, job_id)
                source_image_id = (job.params or {}).get("source_image_id") if job is not None else None
            params |= {"kind": "edit", "strength": request.effective_strength, "masked": request.mask is not None}
        rows: list[Image] = []
        for image in outcome.images:
            image_id = new_id()
            rel = self.store.write(user_id, image_id, image.png)
            width, height = image.size
            rows.append(Image(id=image_id, user_id=user_id, job_id=job_id, path=rel, prompt=request.prompt,
                              seed=image.seed, params=params, width=width, height=height,
                              source_image_id=source_image_id))
            out.image_ids.append(image_id)
            out.seeds.append(image.seed)
        with self.sessions.begin() as db:
            db.add_all(rows)
        return out

    def record_running(self, job_ids: Iterable[str]) -> None:
        """Persist that these jobs started, so a restart knows which ones were interrupted mid-way."""
        ids = list(job_ids)
        with self.sessions.begin() as db:
            db.execute(update(Job).where(Job.id.in_(ids), Job.status == "queued").values(status="running"))

    def record_job_end(self, job_id: str, status: str, *, error_code: str | None = None,
                       error_message: str | None = None) -> None:
        """The job's final status; one already final (cancelled from another process) is kept."""
        with self.sessions.begin() as db:
            db.execute(update(Job).where(Job.id == job_id, Job.status.not_in(FINAL)).values(
                status=status, error_code=error_code, error_message=error_message, finished_at=utcnow()))
