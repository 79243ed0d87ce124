"""A bounded, fair queue that hands out *compatible* batches: scheduling for the generation worker.

Fair: every job belongs to a lane (its user). A batch is led by the oldest job of the lane served least
recently (round-robin; a newcomer goes first, then to the back of the line), so one user's backlog never
stands between another user and the model for more than one batch per user in line. Each lane holds at most ``lane_max_images`` images, so one
user cannot fill the whole queue either: past their share they are told to come back (`LaneFull`, 429) while
everybody else is still admitted.

Batched: a batch also takes the waiting jobs that denoise alike (equal `key_of`: same generator, steps,
guidance and sampler), one per lane per pass, up to ``max_images``, waiting at most ``max_wait`` seconds for
company. So compatible requests of different users still share one generator call; incompatible jobs keep
their place for a later batch.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable, Generic, Hashable, TypeVar

T = TypeVar("T")
SERVED_KEPT = 10_000  # lanes whose last turn is remembered after their jobs are gone


class QueueFull(Exception):
    """The queue is at capacity (the caller answers 503 with Retry-After); ``lane_images`` is what the
    refused lane already holds, so the caller can tell a user over their share (429) from a busy server."""

    def __init__(self, message: str, *, lane_images: int = 0) -> None:
        super().__init__(message)
        self.lane_images = lane_images


class LaneFull(QueueFull):
    """This lane (user) already holds its share of the queue: the caller answers 429 with Retry-After."""


class BatchQueue(Generic[T]):
    def __init__(self, maxsize: int, *, size_of: Callable[[T], int], key_of: Callable[[T], Hashable],
                 lane_of: Callable[[T], Hashable] = lambda _item: None, lane_max_images: int | None = None) -> None:
        if maxsize < 1:
            raise ValueError("queue size must be at least 1")
        if lane_max_images is not None and lane_max_images < 1:
            raise ValueError("a lane must hold at least one image")
        self.maxsize, self.lane_max_images = maxsize, lane_max_images
        self._size_of, self._key_of, self._lane_of = size_of, key_of, lane_of
        self._lanes: dict[Hashable, deque[T]] = {}  # waiting jobs per lane, lanes in arrival order
        self._served: dict[Hashable, int] = {}  # lane -> the turn it last led a batch (remembered while idle)
        self._turn = 0
        self._count = 0
        self._cond = threading.Condition()
        self._closed = False

    def __len__(self) -> int:
        with self._cond:
            return self._count

    def lanes(self) -> int:
        """How many lanes (users) have jobs waiting."""
        with self._cond:
            return len(self._lanes)

    def lane_images(self, lane: Hashable) -> int:
        with self._cond:
            return sum(self._size_of(item) for item in self._lanes.get(lane, ()))

    def check(self, lane: Hashable, size: int) -> None:
        """Raise `LaneFull` or `QueueFull` if a job of ``size`` images in ``lane`` would not be accepted now."""
        with self._cond:
            self._check(lane, size)

    def _check(self, lane: Hashable, size: int) -> None:
        if self._closed:
            raise QueueFull("the generation queue is shutting down")
        waiting = self._lanes.get(lane, ())
        held = sum(self._size_of(item) for item in waiting)
        if self.lane_max_images is not None and held + size > self.lane_max_images:
            raise LaneFull(f"you already have {held} image(s) waiting; at most {self.lane_max_images} may wait "
                           "per user", lane_images=held)
        if self._count >= self.maxsize:
            if waiting and len(waiting) * len(self._lanes) >= self._count:  # this lane holds at least its share
                raise LaneFull(f"the generation queue is full and you hold {len(waiting)} of its "
                               f"{self._count} jobs", lane_images=held)
            raise QueueFull(f"the generation queue is full ({self.maxsize} jobs)", lane_images=held)

    def put(self, item: T) -> None:
        with self._cond:
            lane = self._lane_of(item)
            self._check(lane, self._size_of(item))
            self._lanes.setdefault(lane, deque()).append(item)
            self._count += 1
            self._cond.notify_all()

    def remove(self, item: T) -> bool:
        """Drop a job that has not started (e.g. cancelled); True when it was still waiting."""
        with self._cond:
            lane = self._lane_of(item)
            try:
                self._lanes.get(lane, deque()).remove(item)
            except ValueError:
                return False
            self._count -= 1
            if not self._lanes[lane]:
                del self._lanes[lane]
            return True

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def notify(self) -> None:
        """Wake a waiting `take_batch`: something its ``ready`` callback depends on has changed."""
        with self._cond:
            self._cond.notify_all()

    def take_batch(self, max_images: int, max_wait: float, *, idle_timeout: float = 0.5,
                   ready: Callable[[Hashable], bool] | None = None) -> list[T]:
        """Block up to `idle_timeout` for a first job, then gather compatible jobs for up to `max_wait` seconds.
        Only lanes for which ``ready(lane)`` is true are served (the worker holds back a user whose images are
        still being delivered, so the others pass)."""
        def waiting() -> list[Hashable]:
            return [lane for lane in self._turn_order() if ready is None or ready(lane)]

        with self._cond:
            if not self._cond.wait_for(lambda: waiting() or self._closed, idle_timeout):
                return []
            lanes = waiting()
            if not lanes:
                return []
            lane = lanes[0]
            self._served[lane] = self._turn  # served: to the back of the line
            self._turn += 1
            first = self._pop(lane, 0)
            batch, key, images = [first], self._key_of(first), self._size_of(first)
            deadline = time.monotonic() + max_wait
            while images < max_images:
                images = self._fill(batch, key, images, max_images, ready)
                remaining = deadline - time.monotonic()
                if images >= max_images or remaining <= 0 or self._closed:
                    break
                self._cond.wait(remaining)
            return batch

    def _fill(self, batch: list[T], key: Hashable, images: int, max_images: int,
              ready: Callable[[Hashable], bool] | None) -> int:
        """Add compatible jobs, one per lane per pass in turn order, until nothing more fits."""
        taken = True
        while taken and images < max_images:
            taken = False
            for lane in self._turn_order():
                if lane not in self._lanes or (ready is not None and not ready(lane)):
                    continue
                for index, item in enumerate(self._lanes[lane]):
                    size = self._size_of(item)
                    if self._key_of(item) == key and images + size <= max_images:
                        batch.append(self._pop(lane, index))
                        images += size
                        taken = True
                        break
        return images

    def _turn_order(self) -> list[Hashable]:
        """Waiting lanes, least recently served first (a lane never served, e.g. a newcomer, before all others;
        ties in arrival order)."""
        if len(self._served) > SERVED_KEPT:  # forget users with nothing waiting; a long-idle user is a newcomer
            self._served = {lane: turn for lane, turn in self._served.items() if lane in self._lanes}
        return sorted(self._lanes, key=lambda lane: self._served.get(lane, -1))

    def _pop(self, lane: Hashable, index: int) -> T:
        items = self._lanes[lane]
        item = items[index]
        del items[index]
        self._count -= 1
        if not items:
            del self._lanes[lane]
        return item
