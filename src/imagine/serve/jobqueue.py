"""A bounded queue that hands out *compatible* batches: dynamic batching for the generation worker.

Requests can share one generator call only when they denoise alike (same steps, guidance and sampler), so a
batch is the oldest waiting job plus the next compatible ones, up to `max_images`, waiting at most `max_wait`
seconds for company. Incompatible jobs keep their place for the next batch.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable, Generic, Hashable, TypeVar

T = TypeVar("T")


class QueueFull(Exception):
    """The queue is at capacity: the caller answers 503 with Retry-After."""


class BatchQueue(Generic[T]):
    def __init__(self, maxsize: int, *, size_of: Callable[[T], int], key_of: Callable[[T], Hashable]) -> None:
        if maxsize < 1:
            raise ValueError("queue size must be at least 1")
        self.maxsize = maxsize
        self._size_of, self._key_of = size_of, key_of
        self._items: deque[T] = deque()
        self._cond = threading.Condition()
        self._closed = False

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)

    def put(self, item: T) -> None:
        with self._cond:
            if self._closed:
                raise QueueFull("the generation queue is shutting down")
            if len(self._items) >= self.maxsize:
                raise QueueFull(f"the generation queue is full ({self.maxsize} jobs)")
            self._items.append(item)
            self._cond.notify_all()

    def remove(self, item: T) -> bool:
        """Drop a job that has not started (e.g. cancelled); True when it was still waiting."""
        with self._cond:
            try:
                self._items.remove(item)
                return True
            except ValueError:
                return False

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def take_batch(self, max_images: int, max_wait: float, *, idle_timeout: float = 0.5) -> list[T]:
        """Block up to `idle_timeout` for a first job, then gather compatible jobs for up to `max_wait` seconds."""
        with self._cond:
            if not self._items and not self._cond.wait_for(lambda: self._items or self._closed, idle_timeout):
                return []
            if not self._items:
                return []
            first = self._items.popleft()
            batch, key, images = [first], self._key_of(first), self._size_of(first)
            deadline = time.monotonic() + max_wait
            while images < max_images:
                for item in list(self._items):
                    size = self._size_of(item)
                    if self._key_of(item) == key and images + size <= max_images:
                        self._items.remove(item)
                        batch.append(item)
                        images += size
                remaining = deadline - time.monotonic()
                if images >= max_images or remaining <= 0 or self._closed:
                    break
                self._cond.wait(remaining)
            return batch
