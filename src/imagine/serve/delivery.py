"""From generated pixels to a delivered image: output guard, provenance stamp, disk, database.

Every image passes `OutputGuard.check` (withheld images are counted, never stored) and is stamped with
`provenance.stamp` (visible label, invisible watermark, signed manifest) before anyone can download it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from imagine.guard.metadata import GenerationInfo
from imagine.guard.provenance import stamp
from imagine.db.models import Image, Job, new_id, utcnow
from imagine.serve.imagestore import ImageStore
from imagine.serve.metrics import Metrics

if TYPE_CHECKING:
    from imagine.config import Settings
    from imagine.guard.output import OutputGuard
    from imagine.generate.requests import GenerationRequest, GenerationResult

log = logging.getLogger(__name__)


@dataclass
class Delivered:
    image_ids: list[str] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    blocked: int = 0
    flags: list[str] = field(default_factory=list)


class Delivery:
    def __init__(self, sessions: sessionmaker[Session], store: ImageStore, metrics: Metrics, *,
                 output_guard: "OutputGuard", settings: "Settings") -> None:
        self.sessions, self.store, self.metrics = sessions, store, metrics
        self.output_guard, self.settings = output_guard, settings

    def deliver(self, job_id: str, user_id: str, request: "GenerationRequest", result: "GenerationResult") -> Delivered:
        out = Delivered()
        rows: list[Image] = []
        params = {"steps": request.steps, "guidance": request.guidance, "sampler": request.sampler,
                  "negative_prompt": request.negative_prompt, "model_id": result.model_id}
        for image, seed in zip(result.images, result.seeds, strict=True):
            verdict = self.output_guard.check(image)
            if not verdict.allowed:
                if verdict.matched_post_id is not None:  # audit trail: which training post it copied
                    log.warning("job %s: output withheld as a near-copy of training post %s", job_id,
                                verdict.matched_post_id)
                out.blocked += 1
                for flag in verdict.flags or ["unspecified"]:
                    self.metrics.output_blocked.labels(flag=str(flag)).inc()
                    out.flags.append(str(flag))
                continue
            image_id = new_id()
            info = GenerationInfo(prompt=request.prompt, model_id=result.model_id, seed=seed, steps=request.steps,
                                  guidance=request.guidance, sampler=request.sampler,
                                  negative_prompt=request.negative_prompt)
            png = stamp(image, info, visible_label=self.settings.guard.visible_label, settings=self.settings)
            rel = self.store.write(user_id, image_id, png)
            width, height = _png_size(png)
            rows.append(Image(id=image_id, user_id=user_id, job_id=job_id, path=rel, prompt=request.prompt,
                              seed=seed, params=params, width=width, height=height))
            out.image_ids.append(image_id)
            out.seeds.append(seed)
        with self.sessions.begin() as db:
            db.add_all(rows)
        return out

    def record_job_end(self, job_id: str, status: str, *, error_code: str | None = None,
                       error_message: str | None = None) -> None:
        with self.sessions.begin() as db:
            db.execute(update(Job).where(Job.id == job_id).values(
                status=status, error_code=error_code, error_message=error_message, finished_at=utcnow()))


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG header (IHDR), without decoding the image."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("stamp() did not return a PNG")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
