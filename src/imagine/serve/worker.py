"""The generation worker: it only schedules. A bounded queue, dynamic batching, cancellation.

What happens to a request is the guarded path's (`imagine.guarded.GuardedGenerator`: admit, generate, check,
stamp, sink); the worker decides when. A single thread takes a batch of compatible jobs
(`BatchQueue.take_batch`; compatible = same guarded generator and the same `GenerationRequest.batch_key`),
runs that generator's batched `generate` once and streams step counts and small previews to each job; a small
pool then runs `finish` (output guard, provenance stamp, the `Delivery` sink) per job while the next batch
denoises. Both stages are fair between users: the queue takes users in turn, holds back a user who still has a
batch's worth of images in delivery, a running batch pauses between two steps to run another waiting user's
batch (one level deep), and the pool delivers the lightest user's images first. A batch is cancelled only when every job in it was cancelled; a job cancelled while others in its
batch continue simply discards its images.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import threading
import time
from collections import deque
import heapq
import itertools
from typing import TYPE_CHECKING, Any, Callable

from imagine.generate.requests import GenerationCancelled, GenerationRequest
from imagine.serve.jobqueue import BatchQueue, QueueFull
from imagine.serve.livejob import DEFAULT_GENERATOR, LiveJob
from imagine.serve.metrics import Metrics

if TYPE_CHECKING:
    from PIL import Image

    from imagine.generate.requests import GenerationResult
    from imagine.guarded import GuardedGenerator
    from imagine.serve.delivery import Delivery

log = logging.getLogger(__name__)

PREVIEW_PX = 64
LIVE_STATE_KEPT_S = 300.0
PREVIEW_EVERY_S = 0.2  # at most ~5 preview updates a second per job: enough to look live, cheap to encode


class Worker:
    def __init__(self, generators: "dict[str, GuardedGenerator]", delivery: "Delivery", metrics: Metrics, *,
                 queue_max: int, batch_max_images: int, batch_max_wait_s: float, user_max_images: int | None = None,
                 delivery_threads: int = 2) -> None:
        if DEFAULT_GENERATOR not in generators:
            raise ValueError(f"the worker needs a {DEFAULT_GENERATOR!r} generator")
        self.generators, self.delivery, self.metrics = generators, delivery, metrics
        # One lane per user: batches are led by each user in turn, and a user holds at most user_max_images.
        self.queue: BatchQueue[LiveJob] = BatchQueue(queue_max, size_of=lambda j: j.request.n,
                                                     key_of=LiveJob.batch_key, lane_of=lambda j: j.user_id,
                                                     lane_max_images=user_max_images)
        self.batch_max_images = batch_max_images
        self.batch_max_wait_s = batch_max_wait_s
        self.jobs: dict[str, LiveJob] = {}
        self._finished: deque[tuple[float, str]] = deque()
        self._jobs_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="imagine-generation", daemon=True)
        self._finish_lock = threading.Lock()
        # Images handed to the delivery pool and not yet delivered, per user: a user with a full batch still
        # in delivery waits in the queue (so the worker never races ahead of delivery), while others pass.
        self._in_delivery: dict[str, int] = {}
        self._delivery_lock = threading.Lock()
        self._delivering = FairPool(delivery_threads, name="imagine-delivery")
        self.avg_batch_seconds = 1.0  # for Retry-After estimates
        self._paused_s = 0.0
        self._last_batch_size = 0

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self.queue.close()
        self._thread.join(timeout)
        self._delivering.shutdown()

    # -- used by request handlers ----------------------------------------------------------------------
    def submit(self, job_id: str, user_id: str, request: GenerationRequest, loop: asyncio.AbstractEventLoop, *,
               generator: str = DEFAULT_GENERATOR) -> LiveJob:
        """Queue a job whose watchers live on `loop`; raises `QueueFull` (the caller answers 503 + Retry-After)."""
        self._forget_old()
        if request.n > self.batch_max_images:
            raise ValueError(f"n={request.n} exceeds the batch size {self.batch_max_images}")
        if generator not in self.generators:
            raise ValueError(f"no generator named {generator!r}")
        job = LiveJob(id=job_id, user_id=user_id, request=request, loop=loop, generator=generator,
                      total=request.steps - request.start_step())
        with self._jobs_lock:
            self.jobs[job_id] = job
        try:
            self.queue.put(job)
        except QueueFull:
            with self._jobs_lock:
                self.jobs.pop(job_id, None)
            raise
        self.metrics.queue_depth.set(len(self.queue))
        return job

    def check_room(self, user_id: str, images: int) -> None:
        """Raise `LaneFull` (the user is over their share: 429) or `QueueFull` (503) before anything is stored."""
        self.queue.check(user_id, images)

    def get(self, job_id: str) -> LiveJob | None:
        with self._jobs_lock:
            return self.jobs.get(job_id)

    def cancel(self, job: LiveJob) -> None:
        """Cancel a job: dropped at once if still queued, else its batch stops when all its jobs are cancelled."""
        job.cancel_requested.set()
        if self.queue.remove(job):
            self.metrics.queue_depth.set(len(self.queue))
            self._finish(job, "cancelled", error_code="cancelled", error_message="Cancelled before it started.")

    def retry_after(self) -> int:
        """Seconds until the queue has likely drained by one batch (for 503 answers)."""
        batches_ahead = max(1, len(self.queue) * 4 // max(1, self.batch_max_images))
        return max(1, round(batches_ahead * self.avg_batch_seconds))

    def retry_after_share(self) -> int:
        """Seconds until a user over their share likely has room again: one turn of every waiting user (429)."""
        return max(1, round((self.queue.lanes() + 1) * self.avg_batch_seconds))

    # -- the worker thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            # Wait for company only under load (the last batch was shared): a lone client pays no batching delay.
            wait = self.batch_max_wait_s if self._last_batch_size > 1 else 0.0
            batch = self.queue.take_batch(self.batch_max_images, wait, ready=self._ready)
            if batch:
                self._last_batch_size = len(batch)
            self._run_batch(batch, preemptible=True)

    def _run_batch(self, batch: list[LiveJob], *, preemptible: bool) -> None:
        self.metrics.queue_depth.set(len(self.queue))
        live = [j for j in batch if not j.cancel_requested.is_set()]
        for job in batch:
            if job.cancel_requested.is_set():
                self._finish(job, "cancelled", error_code="cancelled", error_message="Cancelled.")
        if live:
            try:
                self._process(live, preemptible=preemptible)
            except Exception as exc:  # keep the worker alive; each job is failed with a clear error
                log.exception("generation batch failed: %s", exc)
                for job in live:
                    if not job.finished:
                        self._finish(job, "failed", error_code="generation_failed", error_message=str(exc))

    def _preempt(self, running: list[LiveJob]) -> None:
        """Between two steps of a batch: if another user is waiting, run their batch now, to the end, then go
        on (one level deep). So a light request waits one step of a heavy batch, not the whole batch; the
        paused batch keeps its state in its own frame (`Generator.generate` may be entered again by its thread)."""
        users = {job.user_id for job in running}
        other = self.queue.take_batch(self.batch_max_images, 0.0, idle_timeout=0.0,
                                      ready=lambda lane: lane not in users and self._ready(lane))
        if other:
            self.metrics.preemptions.inc()
            start = time.monotonic()
            self._run_batch(other, preemptible=False)
            self._paused_s += time.monotonic() - start

    def _process(self, batch: list[LiveJob], *, preemptible: bool = False) -> None:
        guarded = self.generators[batch[0].generator]  # a batch never mixes generators (see LiveJob.batch_key)
        self.delivery.record_running(j.id for j in batch)
        for job in batch:
            job.update(status="running")
        self.metrics.batch_requests.observe(len(batch))
        self.metrics.batch_images.observe(sum(j.request.n for j in batch))
        last_preview = [0.0]

        def on_step(step: int, total: int, previews: "list[Image.Image] | None") -> None:
            now = time.monotonic()
            urls_by_job: dict[str, list[str]] = {}
            if previews is not None and (now - last_preview[0] >= PREVIEW_EVERY_S or step == total):
                last_preview[0] = now
                offset = 0
                for job in batch:
                    urls_by_job[job.id] = [_data_url(im) for im in previews[offset: offset + job.request.n]]
                    offset += job.request.n
            for job in batch:
                if job.id in urls_by_job:
                    job.update(step=step, total=total, previews=urls_by_job[job.id])
                else:
                    job.update(step=step, total=total)
            if preemptible and step < total:
                self._preempt(batch)

        start = time.monotonic()
        if preemptible:
            self._paused_s = 0.0  # time spent on other users' batches while this one was paused
        try:
            results = guarded.generate([j.request for j in batch], on_step=on_step,
                                       cancelled=lambda: all(j.cancel_requested.is_set() for j in batch))
        except GenerationCancelled:
            for job in batch:
                self._finish(job, "cancelled", error_code="cancelled", error_message="Cancelled while generating.")
            return
        elapsed = time.monotonic() - start - (self._paused_s if preemptible else 0.0)
        self.metrics.generate_seconds.observe(elapsed)
        self.avg_batch_seconds = 0.8 * self.avg_batch_seconds + 0.2 * elapsed
        for job, result in zip(batch, results, strict=True):
            if job.cancel_requested.is_set():
                self._finish(job, "cancelled", error_code="cancelled", error_message="Cancelled while generating.")
                continue
            # Check + stamp + sink run beside the next batch's denoising (they are per image, not batchable),
            # lightest user first: a user's images never wait behind another user's backlog.
            with self._delivery_lock:
                ahead = self._in_delivery.get(job.user_id, 0)
                self._in_delivery[job.user_id] = ahead + job.request.n
            self._delivering.submit(ahead, self._deliver, guarded, job, result)

    def _ready(self, user_id: str) -> bool:
        with self._delivery_lock:
            return self._in_delivery.get(user_id, 0) < self.batch_max_images

    def _deliver(self, guarded: "GuardedGenerator", job: LiveJob, result: "GenerationResult") -> None:
        try:
            self._deliver_one(guarded, job, result)
        finally:
            with self._delivery_lock:
                left = self._in_delivery.get(job.user_id, 0) - job.request.n
                if left > 0:
                    self._in_delivery[job.user_id] = left
                else:
                    self._in_delivery.pop(job.user_id, None)
            self.queue.notify()  # this user may be ready for the next batch

    def _deliver_one(self, guarded: "GuardedGenerator", job: LiveJob, result: "GenerationResult") -> None:
        try:
            delivered = guarded.finish(result, self.delivery.sink(job.id, job.user_id))
        except Exception as exc:  # one job fails clearly; the others and the worker go on
            log.exception("delivery of job %s failed: %s", job.id, exc)
            self._finish(job, "failed", error_code="generation_failed", error_message=f"delivery failed: {exc}")
            return
        self._finish(job, "succeeded", image_ids=delivered.image_ids, seeds=delivered.seeds,
                     blocked=delivered.blocked)

    def _finish(self, job: LiveJob, status: str, **changes: object) -> None:
        with self._finish_lock:  # the worker, the delivery pool and cancelling handlers may race to finish a job
            if job.finished or job.finishing:
                return
            job.finishing = True
        self.delivery.record_job_end(job.id, status, error_code=changes.get("error_code"),  # type: ignore[arg-type]
                                     error_message=changes.get("error_message"))  # type: ignore[arg-type]
        self.metrics.jobs.labels(status=status).inc()
        self.metrics.job_latency.observe(time.monotonic() - job.enqueued_at)
        job.update(status=status, **changes)
        with self._jobs_lock:
            self._finished.append((time.monotonic(), job.id))

    def _forget_old(self) -> None:
        """Live state is only needed while someone may still be watching; the DB keeps the record."""
        horizon = time.monotonic() - LIVE_STATE_KEPT_S
        with self._jobs_lock:
            while self._finished and self._finished[0][0] < horizon:
                self.jobs.pop(self._finished.popleft()[1], None)


class FairPool:
    """A few threads running tasks by priority, lowest first, then in submission order. The worker's priority
    is how many images the task's user already had in delivery, so a light user's images go before a heavy
    user's backlog. (A thread pool with a priority queue: `concurrent.futures` offers only FIFO.)"""

    def __init__(self, threads: int, *, name: str) -> None:
        self._heap: list[tuple[int, int, Callable[..., Any], tuple]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._threads = [threading.Thread(target=self._run, name=f"{name}-{i}", daemon=True) for i in range(threads)]
        for thread in self._threads:
            thread.start()

    def submit(self, priority: int, fn: Callable[..., Any], *args: Any) -> None:
        with self._cond:
            if self._closed:
                raise RuntimeError("the pool is shut down")
            heapq.heappush(self._heap, (priority, next(self._seq), fn, args))
            self._cond.notify()

    def shutdown(self) -> None:
        """Run what was submitted, then stop the threads."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._heap or self._closed)
                if not self._heap:
                    return
                _, _, fn, args = heapq.heappop(self._heap)
            try:
                fn(*args)
            except Exception:  # the task reports its own failure; the pool keeps running
                log.exception("delivery task failed")


def _data_url(image: "Image.Image") -> str:
    small = image.convert("RGB")
    if max(small.size) > PREVIEW_PX:
        small.thumbnail((PREVIEW_PX, PREVIEW_PX))
    buf = io.BytesIO()
    small.save(buf, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
