"""The worker: dynamic batching of concurrent requests, and cancellation when the client goes away."""

from __future__ import annotations

import re
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from imagine.serve.jobqueue import BatchQueue, LaneFull, QueueFull

from .conftest import bearer, live_server, new_key, sign_up


def test_batch_queue_groups_compatible_jobs_up_to_the_image_budget():
    q: BatchQueue[tuple[str, int]] = BatchQueue(10, size_of=lambda j: j[1], key_of=lambda j: j[0])
    for job in [("a", 2), ("b", 1), ("a", 2), ("a", 2), ("a", 1)]:
        q.put(job)
    assert q.take_batch(max_images=5, max_wait=0) == [("a", 2), ("a", 2), ("a", 1)]
    assert q.take_batch(max_images=5, max_wait=0) == [("b", 1)]  # incompatible jobs wait their turn
    assert q.take_batch(max_images=5, max_wait=0) == [("a", 2)]
    assert q.take_batch(max_images=5, max_wait=0, idle_timeout=0.01) == []
    small: BatchQueue[tuple[str, int]] = BatchQueue(1, size_of=lambda j: j[1], key_of=lambda j: j[0])
    small.put(("a", 1))
    with pytest.raises(QueueFull):
        small.put(("a", 1))


def test_batch_queue_takes_users_in_turn_and_caps_each_user():
    q: BatchQueue[tuple[str, str, int]] = BatchQueue(100, size_of=lambda j: j[2], key_of=lambda j: j[1],
                                                     lane_of=lambda j: j[0], lane_max_images=8)
    for _ in range(4):
        q.put(("greedy", "slow", 2))
    with pytest.raises(LaneFull):  # the greedy user's share is full ...
        q.put(("greedy", "slow", 1))
    q.put(("light", "fast", 1))  # ... and the light user is still admitted
    assert q.take_batch(max_images=2, max_wait=0) == [("greedy", "slow", 2)]
    assert q.take_batch(max_images=2, max_wait=0) == [("light", "fast", 1)]  # its turn, before the backlog
    # Compatible jobs of different users share a batch, one per user per pass, newcomers first.
    q.put(("light", "slow", 1))
    q.put(("other", "slow", 1))
    assert q.take_batch(max_images=4, max_wait=0) == [("other", "slow", 1), ("greedy", "slow", 2), ("light", "slow", 1)]
    assert q.lane_images("greedy") == 4 and len(q) == 2


def test_batch_queue_waits_for_company_up_to_max_wait():
    q: BatchQueue[tuple[str, int]] = BatchQueue(10, size_of=lambda j: j[1], key_of=lambda j: j[0])
    q.put(("a", 1))
    threading.Timer(0.05, q.put, args=(("a", 1),)).start()
    assert q.take_batch(max_images=4, max_wait=1.0) == [("a", 1), ("a", 1)]


def _metric(text: str, name: str) -> float:
    return float(re.search(rf"^{name} (\S+)$", text, re.M).group(1))


def test_concurrent_requests_share_one_generator_call(app_factory):
    with TestClient(app_factory(batch_max_images=16, batch_max_wait_ms=200)) as c:
        sign_up(c)
        key = new_key(c)
        ids = [c.post("/api/v1/jobs", json={"prompt": f"a red circle {i}", "n": 2, "steps": 3, "seed": i},
                      headers=bearer(key)).json()["id"] for i in range(4)]
        for job_id in ids:
            c.get(f"/api/v1/jobs/{job_id}/events", headers=bearer(key))  # waits until done
        jobs = [c.get(f"/api/v1/jobs/{j}", headers=bearer(key)).json() for j in ids]
        assert all(j["status"] == "succeeded" and len(j["image_ids"]) == 2 for j in jobs)
        text = c.get("/metrics").text
        calls = _metric(text, "imagine_batch_requests_count")
        assert _metric(text, "imagine_batch_requests_sum") == 4 and calls < 4  # batched: fewer calls than jobs


def test_client_disconnect_cancels_the_job(app_factory):
    app = app_factory(max_steps=150, batch_max_images=4)
    with TestClient(app) as c:
        sign_up(c)
        key = new_key(c)
    with live_server(app_factory(max_steps=150, home=app.state.ctx.settings.data_home)) as url:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{url}/api/v1/generations", json={"prompt": "a white house", "n": 4, "steps": 150},
                       headers=bearer(key), timeout=1.5)
        deadline = time.monotonic() + 60
        while True:
            jobs = httpx.get(f"{url}/api/v1/jobs", headers=bearer(key)).json()
            if jobs and jobs[0]["status"] in ("cancelled", "succeeded"):
                break
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert jobs[0]["status"] == "cancelled"
        assert 'imagine_jobs_total{status="cancelled"} 1.0' in httpx.get(f"{url}/metrics").text
