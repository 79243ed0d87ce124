"""Two `imagine serve` processes sharing one Redis enforce one rate limit between them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from .conftest import free_port


def _start(home, model, port, redis_url, log):
    env = {**os.environ, "IMAGINE_SERVE__RATE_USER": "3/minute", "IMAGINE_SERVE__COOKIE_SECURE": "false",
           "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "imagine", "--data-home", str(home), "serve", "--port", str(port),
           "--redis-url", redis_url, "--model", str(model)]
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_ready(url: str, proc, deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).json()["status"] == "ok":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not become ready")


@pytest.mark.slow
def test_two_processes_share_one_limit(tmp_path, tiny_model_dir, redis_url):
    home = tmp_path / "var"
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    logs = [open(tmp_path / f"server{i}.log", "wb") for i in range(2)]
    procs = [_start(home, tiny_model_dir, ports[0], redis_url, logs[0])]
    try:
        _wait_ready(urls[0], procs[0], time.monotonic() + 240)  # the first one creates the database
        procs.append(_start(home, tiny_model_dir, ports[1], redis_url, logs[1]))
        _wait_ready(urls[1], procs[1], time.monotonic() + 240)
        with httpx.Client(base_url=urls[0]) as web:
            web.get("/login")
            email = f"redis-{uuid.uuid4().hex[:8]}@example.org"
            r = web.post("/signup", data={"email": email, "password": "correct horse battery",
                                          "csrf_token": web.cookies["imagine_csrf"]})
            assert r.status_code == 303, r.text
            made = web.post("/api/v1/keys", json={"name": "k"}, headers={"X-CSRF-Token": web.cookies["imagine_csrf"]})
            assert made.status_code == 201, (made.text, dict(web.cookies))
            key = made.json()["key"]
        job = {"prompt": "a brown car", "n": 1, "steps": 1}
        auth = {"Authorization": f"Bearer {key}"}
        codes = [httpx.post(f"{urls[i % 2]}/api/v1/jobs", json=job, headers=auth, timeout=30).status_code
                 for i in range(4)]
        assert codes == [202, 202, 202, 429]  # 3 per minute in all, not 3 per process
        last = httpx.post(f"{urls[0]}/api/v1/jobs", json=job, headers=auth, timeout=30)
        assert last.status_code == 429 and int(last.headers["Retry-After"]) > 0
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
        for log in logs:
            log.close()
