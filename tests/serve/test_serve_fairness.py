"""Fairness and load: rate limits with Retry-After, region policy from a trusted proxy header, 503 when full."""

from __future__ import annotations

import re
import time

from fastapi.testclient import TestClient

from .conftest import bearer, new_key, sign_up

GEN = {"prompt": "a purple heart", "n": 1, "steps": 2, "seed": 1}


def test_rate_limit_per_user_answers_429_with_retry_after(app_factory):
    with TestClient(app_factory(rate_user="2/minute")) as c:
        sign_up(c)
        key = new_key(c)
        codes = [c.post("/api/v1/jobs", json=GEN, headers=bearer(key)).status_code for _ in range(3)]
        assert codes == [202, 202, 429]
        r = c.post("/v1/images/generations", json={"prompt": "a cat"}, headers=bearer(key))
        assert r.status_code == 429
        err = r.json()["error"]
        assert err["code"] == "rate_limited" and err["retry_after"] > 0
        assert int(r.headers["Retry-After"]) == err["retry_after"]
        assert 'imagine_rejected_total{code="rate_limited"}' in c.get("/metrics").text


def test_rate_limit_per_ip_spans_users(app_factory):
    with TestClient(app_factory(rate_ip="2/minute")) as c:
        keys = []
        for _ in range(2):
            sign_up(c)
            keys.append(new_key(c))
        assert c.post("/api/v1/jobs", json=GEN, headers=bearer(keys[0])).status_code == 202
        assert c.post("/api/v1/jobs", json=GEN, headers=bearer(keys[1])).status_code == 202
        assert c.post("/api/v1/jobs", json=GEN, headers=bearer(keys[1])).status_code == 429


def test_region_policy_trusts_only_the_configured_proxy(app_factory):
    app = app_factory(region_deny=["XX"], region_header="X-Country", trusted_proxies=["testclient"])
    with TestClient(app) as c:
        sign_up(c)
        key = new_key(c)
        r = c.post("/api/v1/jobs", json=GEN, headers={**bearer(key), "X-Country": "xx"})
        assert r.status_code == 451 and r.json()["error"]["code"] == "region_unavailable"
        page = c.get("/", headers={"X-Country": "XX"})
        assert "Not available in your region" in page.text
        assert c.post("/api/v1/jobs", json=GEN, headers={**bearer(key), "X-Country": "FR"}).status_code == 202
    untrusted = app_factory(region_deny=["XX"], trusted_proxies=["10.0.0.1"])
    with TestClient(untrusted) as c:
        sign_up(c)
        key = new_key(c)
        # the header comes from the client itself, not a trusted proxy: ignored
        assert c.post("/api/v1/jobs", json=GEN, headers={**bearer(key), "X-Country": "XX"}).status_code == 202


def test_allow_list_fails_closed_for_unknown_regions(app_factory):
    with TestClient(app_factory(region_allow=["FR", "DE"], trusted_proxies=["testclient"])) as c:
        sign_up(c)
        key = new_key(c)
        assert c.post("/api/v1/jobs", json=GEN, headers=bearer(key)).status_code == 451
        assert c.post("/api/v1/jobs", json=GEN, headers={**bearer(key), "X-Country": "de"}).status_code == 202


def test_full_queue_answers_503_with_retry_after(app_factory):
    with TestClient(app_factory(queue_max=1, batch_max_images=2, max_steps=150)) as c:
        sign_up(c)
        key = new_key(c)
        slow = {"prompt": "a blue car", "n": 2, "steps": 150, "seed": 1}
        running = c.post("/api/v1/jobs", json=slow, headers=bearer(key)).json()["id"]
        deadline = time.monotonic() + 60
        while c.get(f"/api/v1/jobs/{running}", headers=bearer(key)).json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        queued = c.post("/api/v1/jobs", json=slow, headers=bearer(key))
        assert queued.status_code == 202
        # The full queue is all this user's: they are over their share (429); another user finds it busy (503).
        over = c.post("/api/v1/jobs", json=slow, headers=bearer(key))
        assert over.status_code == 429 and over.json()["error"]["code"] == "queue_share_exceeded"
        assert int(over.headers["Retry-After"]) >= 1
        sign_up(c)
        other = new_key(c)
        busy = c.post("/api/v1/jobs", json=slow, headers=bearer(other))
        assert busy.status_code == 503
        assert busy.json()["error"]["code"] == "server_busy" and int(busy.headers["Retry-After"]) >= 1
        # Refusals for lack of room are not the users' jobs: nothing stored for them.
        assert c.get("/api/v1/jobs", headers=bearer(other)).json() == []
        assert {j["id"] for j in c.get("/api/v1/jobs", headers=bearer(key)).json()} == {running, queued.json()["id"]}
        # cancelling the queued job drops it at once; cancelling the running one stops it between steps
        assert c.delete(f"/api/v1/jobs/{queued.json()['id']}", headers=bearer(key)).json()["status"] == "cancelled"
        c.delete(f"/api/v1/jobs/{running}", headers=bearer(key))
        while c.get(f"/api/v1/jobs/{running}", headers=bearer(key)).json()["status"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert c.get(f"/api/v1/jobs/{running}", headers=bearer(key)).json()["status"] == "cancelled"


def test_a_greedy_user_does_not_starve_another(app_factory):
    """One user queues 30 async jobs: past their share they get 429 with Retry-After (and nothing stored),
    while a second user is admitted and served in turn, ahead of the greedy user's backlog."""
    with TestClient(app_factory(batch_max_images=4, user_queue_images=8, max_steps=150)) as c:
        sign_up(c)
        greedy = new_key(c)
        heavy = {"prompt": "a green tree", "n": 4, "steps": 150}
        answers = [c.post("/api/v1/jobs", json={**heavy, "seed": i}, headers=bearer(greedy)) for i in range(30)]
        admitted = [r.json()["id"] for r in answers if r.status_code == 202]
        refused = [r for r in answers if r.status_code != 202]
        assert refused, "the greedy user was never told to wait"
        for r in refused:
            assert r.status_code == 429 and r.json()["error"]["code"] == "queue_share_exceeded"
            assert int(r.headers["Retry-After"]) >= 1
        stored = c.get("/api/v1/jobs", params={"limit": 100}, headers=bearer(greedy)).json()
        assert sorted(j["id"] for j in stored) == sorted(admitted)  # refusals are not the user's jobs

        def waiting() -> list[str]:
            return [j for j in admitted if c.get(f"/api/v1/jobs/{j}", headers=bearer(greedy)).json()["status"] == "queued"]

        backlog = waiting()
        assert len(backlog) >= 2  # the greedy user's share of the queue is full
        sign_up(c)
        light = new_key(c)
        r = c.post("/api/v1/generations", json={"prompt": "a red circle", "n": 1, "steps": 2, "seed": 1},
                   headers=bearer(light))
        assert r.status_code == 200 and r.json()["job"]["status"] == "succeeded"
        # Served ahead of the backlog it found (still mostly there), and without waiting for the greedy batch
        # that was running: that batch paused between two steps for it.
        assert len(set(backlog) & set(waiting())) >= 1
        assert re.search(r"^imagine_preemptions_total [1-9]", c.get("/metrics").text, re.M)
        for job_id in admitted:  # leave no long batch behind
            c.delete(f"/api/v1/jobs/{job_id}", headers=bearer(greedy))
