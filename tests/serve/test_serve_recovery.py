"""Crash recovery: a real `imagine serve` process killed with SIGKILL mid-job, then started again."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from .conftest import free_port, live_server, new_key, sign_up, sse_events

SLOW = {"prompt": "a white house", "n": 4, "steps": 150}


@contextmanager
def imagine_serve(home: Path, model: Path, port: int) -> Iterator[subprocess.Popen]:
    """`imagine serve` as its own process (the CLI, as an operator runs it) on a loopback port."""
    env = {**os.environ, "IMAGINE_DATA_HOME": str(home), "IMAGINE_SERVE__COOKIE_SECURE": "false",
           "IMAGINE_SERVE__MAX_STEPS": "150", "IMAGINE_SERVE__BATCH_MAX_IMAGES": "4",
           "IMAGINE_SERVE__TORCH_THREADS": "1", "IMAGINE_SERVE__INSTANCE": "recovery-test",
           "IMAGINE_GUARD__POLICY_SEMANTIC": "false", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "imagine", "serve", "--port", str(port), "--model", str(model)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, "imagine serve exited during start-up"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json().get("status") == "ok":
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "imagine serve did not become ready"
            time.sleep(0.25)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)


def _status(http: httpx.Client, job_id: str) -> dict:
    return http.get(f"/api/v1/jobs/{job_id}").json()


def _rows(home: Path) -> dict[str, tuple[str, str | None]]:
    with sqlite3.connect(home / "imagine.db") as db:
        return {i: (s, e) for i, s, e in db.execute("SELECT id, status, error_code FROM jobs")}


@pytest.mark.slow
def test_kill_9_mid_job_then_restart(tiny_model_dir, tmp_path):
    home, port = tmp_path / "var", free_port()
    with imagine_serve(home, tiny_model_dir, port) as proc:
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        sign_up(http)
        http.headers["Authorization"] = f"Bearer {new_key(http)}"
        running, waiting, dropped = (http.post("/api/v1/jobs", json={**SLOW, "seed": i}).json()["id"] for i in range(3))
        deadline = time.monotonic() + 60
        while _status(http, running)["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    # What the crash left: "running" was persisted, the others still queued, and a delivered file without its row.
    assert _rows(home)[running] == ("running", None)
    assert _rows(home)[waiting][0] == _rows(home)[dropped][0] == "queued"
    orphan = home / "images" / "someone" / "orphan.png"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"\x89PNG\r\n\x1a\n")
    os.utime(orphan, (time.time() - 3600, time.time() - 3600))

    with imagine_serve(home, tiny_model_dir, port):
        # Cancelling a re-queued job really takes it off the queue: it never runs.
        assert http.delete(f"/api/v1/jobs/{dropped}").json()["status"] == "cancelled"
        # The interrupted job failed with a reason, and its event stream says so.
        job = _status(http, running)
        assert job["status"] == "failed" and job["error_code"] == "interrupted"
        (event, data), = sse_events(http.get(f"/api/v1/jobs/{running}/events").text)
        assert event == "done" and json.loads(data)["job"]["status"] == "failed"
        # The waiting job was queued again and is delivered; its stream follows it to the end.
        events = sse_events(http.get(f"/api/v1/jobs/{waiting}/events", timeout=300).text)
        assert events[-1][0] == "done"
        done = json.loads(events[-1][1])
        assert done["job"]["status"] == "succeeded" and len(done["images"]) == 4
        assert _status(http, dropped)["status"] == "cancelled" and _status(http, dropped)["image_ids"] == []
        assert not orphan.exists()
    assert _rows(home)[dropped] == ("cancelled", "cancelled")


def test_a_job_held_by_another_process_is_left_alone_and_followed_through_its_row(app_factory, tmp_path):
    """Processes sharing a database recover only their own jobs; another's job is followed through its row."""
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from imagine.db.models import Job, User

    home = tmp_path / "shared"
    with TestClient(app_factory(home=home, instance="a")) as c:
        email = sign_up(c)
        key = new_key(c)
        sessions = c.app.state.ctx.sessions
        with sessions.begin() as db:
            user_id = db.scalar(select(User.id).where(User.email == email))
            db.add(Job(id="held-by-b", user_id=user_id, status="running", instance="b", prompt="a cat",
                       params={"n": 1, "steps": 2}))
    with live_server(app_factory(home=home, instance="a")) as url:  # a restart of "a": "b"'s job is not touched
        http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert http.get("/api/v1/jobs/held-by-b").json()["status"] == "running"
        with http.stream("GET", "/api/v1/jobs/held-by-b/events") as stream:
            lines = stream.iter_lines()
            assert next(lines) == "event: progress" and '"status":"running"' in next(lines)
            assert http.delete("/api/v1/jobs/held-by-b").json()["status"] == "cancelled"
            rest = "\n".join(lines)
        assert "event: done" in rest and '"status":"cancelled"' in rest
