"""A job's live state, shared between the worker thread (which writes it) and request handlers (which await it).

The worker thread never touches asyncio objects directly: it bumps `version` and asks the event loop to wake
the waiters (`call_soon_threadsafe`), so SSE streams and sync requests react within a step.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from imagine.generate.requests import GenerationRequest

FINAL = frozenset({"succeeded", "failed", "cancelled"})
DEFAULT_GENERATOR = "default"  # the served model's name among the worker's guarded generators


@dataclass(eq=False)
class LiveJob:
    id: str
    user_id: str
    request: GenerationRequest
    loop: asyncio.AbstractEventLoop
    generator: str = DEFAULT_GENERATOR  # which of the worker's guarded generators runs it
    status: str = "queued"
    step: int = 0
    total: int = 0
    previews: list[str] = field(default_factory=list)  # data: URLs of small PNGs
    image_ids: list[str] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    blocked: int = 0
    error_code: str | None = None
    error_message: str | None = None
    enqueued_at: float = field(default_factory=time.monotonic)
    version: int = 0
    finishing: bool = False  # set (under the worker's lock) by whoever finishes the job first
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    _event: asyncio.Event | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINAL

    def batch_key(self) -> tuple:
        """Jobs with equal keys run as one batched call: the same generator, and requests that denoise alike."""
        return (self.generator, self.request.batch_key())

    def update(self, **changes: Any) -> None:
        """Called from any thread: apply changes and wake the awaiting handlers."""
        for name, value in changes.items():
            setattr(self, name, value)
        self.version += 1
        try:
            self.loop.call_soon_threadsafe(self._wake)
        except RuntimeError:  # the loop has closed (server shutting down): nobody is waiting any more
            pass

    def _wake(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None

    async def wait_change(self, seen_version: int, timeout: float) -> bool:
        """Wait (in the loop) until `version` passes `seen_version`; False on timeout."""
        if self.version != seen_version:
            return True
        if self._event is None:
            self._event = asyncio.Event()
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except asyncio.TimeoutError:
            return self.version != seen_version
        return True

    def progress(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "step": self.step, "total": self.total,
                "previews": self.previews}
