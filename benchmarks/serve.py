"""Service throughput, latency, fairness and overhead on loopback; optional soak.

    .venv/bin/python benchmarks/serve.py                       # all scenarios + a 600 s soak at 16 clients
    .venv/bin/python benchmarks/serve.py --soak-seconds 0      # no soak
    .venv/bin/python benchmarks/serve.py --only greedy --soak-seconds 0

Starts `imagine serve` in a subprocess on a free loopback port with a tiny random model (or --model), signs up
users, then measures:
- levels: `POST /api/v1/generations` (sync, n=1, few steps) from 1, 4 and 16 concurrent clients of one user;
  requests/s and p50/p95 per level and the ratio throughput@16 / throughput@1 (goal >= 2.5, from batching);
- greedy: a light user (one closed-loop client, sync n=1) alone, then while a heavy user floods the queue with
  async n=4 jobs of 4x the steps from 8 clients (honouring Retry-After on 429); the light user's p50/p95 in both
  and the ratio p95 flood / p95 idle (goal <= 3), plus what the heavy user got (jobs done, 429s);
- overhead: one request over HTTP vs the same guarded path in-process (`GuardedGenerator`: policy, generate,
  output guard, stamp; no HTTP, auth, limits, queue or database), alternating (goal <= 10 %);
- soak: 16 clients for --soak-seconds with the server's RSS sampled every 10 s (start, max, end; goal flat) and
  the count of 5xx answers other than intended 503s (goal 0).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import psutil

PROMPTS = ["a red circle above a blue car", "a green tree left of a house", "a yellow star on the beach",
           "two purple hearts in the snow", "a black square below a white triangle"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_tiny_model(folder: Path, resolution: int) -> Path:
    from imagine.model.factory import tiny_pipeline

    tiny_pipeline(resolution=resolution, seed=0).save_pretrained(folder)
    return folder


def start_server(model: Path, home: Path, port: int, batch: int, wait_ms: int) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "IMAGINE_SERVE__RATE_USER": "1000000/minute",
           "IMAGINE_SERVE__RATE_IP": "1000000/minute", "IMAGINE_SERVE__QUEUE_MAX": "256",
           "IMAGINE_SERVE__BATCH_MAX_IMAGES": str(batch), "IMAGINE_SERVE__BATCH_MAX_WAIT_MS": str(wait_ms),
           "IMAGINE_SERVE__COOKIE_SECURE": "false"}
    cmd = [sys.executable, "-m", "imagine", "--data-home", str(home), "--log-level", "WARNING", "serve",
           "--port", str(port), "--model", str(model)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).json()["status"] == "ok":
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise TimeoutError("server did not start")


def api_key(url: str) -> str:
    with httpx.Client(base_url=url) as web:
        web.get("/login")
        web.post("/signup", data={"email": f"bench-{uuid.uuid4().hex[:8]}@example.org",
                                  "password": "benchmark password", "csrf_token": web.cookies["imagine_csrf"]})
        return web.post("/api/v1/keys", json={"name": "bench"},
                        headers={"X-CSRF-Token": web.cookies["imagine_csrf"]}).json()["key"]


def drive(url: str, key: str, clients: int, seconds: float, steps: int) -> dict:
    """`clients` closed-loop clients for `seconds`; returns latencies and status counts."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(i: int) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=300) as http:
            n = 0
            while time.monotonic() < stop_at:
                body = {"prompt": PROMPTS[(i + n) % len(PROMPTS)], "n": 1, "steps": steps, "seed": i * 1000 + n}
                t0 = time.perf_counter()
                try:
                    status = http.post("/api/v1/generations", json=body).status_code
                except httpx.HTTPError:
                    status = 599
                dt = time.perf_counter() - t0
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                    if status == 200:
                        latencies.append(dt)
                n += 1

    start = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    return {"latencies": latencies, "statuses": statuses, "elapsed": elapsed, "rps": len(latencies) / elapsed}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def overhead(model: Path, home: Path, url: str, key: str, steps: int, repeats: int) -> tuple[float, float]:
    """Median seconds of one request over HTTP (1 client) and of the same guarded path in-process
    (`GuardedGenerator`: prompt policy, generate, output guard, provenance stamp; no HTTP, auth, limits, queue
    or database), measured alternately so machine noise hits both."""
    import torch

    from imagine.config import Settings
    from imagine.guarded import GuardedGenerator

    torch.set_num_threads(1)
    guarded = GuardedGenerator.from_settings(Settings(data_home=home), model=model)
    local, remote = [], []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=300) as http:
        for i in range(repeats + 1):
            prompt = PROMPTS[i % len(PROMPTS)]
            t0 = time.perf_counter()
            [outcome] = guarded([guarded.request(prompt, n=1, steps=steps, seed=i)], lambda o: o,
                                on_step=lambda *a: None)
            assert outcome.images
            t1 = time.perf_counter()
            ok = http.post("/api/v1/generations", json={"prompt": prompt, "n": 1, "steps": steps, "seed": i})
            t2 = time.perf_counter()
            if i and ok.status_code == 200:  # the first round warms up
                local.append(t1 - t0)
                remote.append(t2 - t1)
    return statistics.median(remote), statistics.median(local)


def flood(url: str, key: str, clients: int, stop: threading.Event, steps: int, counts: dict) -> list[threading.Thread]:
    """A heavy user: `clients` threads queueing async n=4 jobs as fast as the server admits them."""
    lock = threading.Lock()

    def client(i: int) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=300) as http:
            n = 0
            while not stop.is_set():
                r = http.post("/api/v1/jobs", json={"prompt": PROMPTS[(i + n) % len(PROMPTS)], "n": 4,
                                                    "steps": steps, "seed": i * 1000 + n})
                n += 1
                with lock:
                    counts[r.status_code] = counts.get(r.status_code, 0) + 1
                if r.status_code != 202:
                    stop.wait(min(float(r.headers.get("Retry-After", 1)), 2.0))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    return threads


def greedy(url: str, light_key: str, heavy_key: str, seconds: float, steps: int) -> None:
    idle = drive(url, light_key, 1, seconds, steps)
    stop, counts = threading.Event(), {}
    threads = flood(url, heavy_key, 8, stop, steps * 4, counts)
    time.sleep(2)  # let the flood fill the heavy user's share of the queue
    flooded = drive(url, light_key, 1, seconds, steps)
    stop.set()
    for t in threads:
        t.join()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {heavy_key}"}, timeout=60) as http:
        jobs = http.get("/api/v1/jobs", params={"limit": 100}).json()
        for job in jobs:  # leave nothing queued for the next scenario
            if job["status"] in ("queued", "running"):
                http.delete(f"/api/v1/jobs/{job['id']}")
    p95_idle, p95_flood = pct(idle["latencies"], 95), pct(flooded["latencies"], 95)
    print(f"greedy: light user idle p50={pct(idle['latencies'], 50):.3f}s p95={p95_idle:.3f}s n={len(idle['latencies'])} | "
          f"while flooded p50={pct(flooded['latencies'], 50):.3f}s p95={p95_flood:.3f}s "
          f"max={max(flooded['latencies'], default=float('nan')):.3f}s n={len(flooded['latencies'])} "
          f"statuses={flooded['statuses']} | heavy user answers={counts}", flush=True)
    print(f"greedy: light p95 flooded / idle = {p95_flood / p95_idle:.2f}x (goal <= 3x)", flush=True)


def soak(url: str, key: str, pid: int, seconds: float, steps: int) -> None:
    proc = psutil.Process(pid)
    samples: list[tuple[float, int]] = []
    done = threading.Event()

    def sample() -> None:
        start = time.monotonic()
        while True:
            samples.append((time.monotonic() - start, proc.memory_info().rss))
            if done.wait(10):
                samples.append((time.monotonic() - start, proc.memory_info().rss))
                return

    sampler = threading.Thread(target=sample)
    sampler.start()
    result = drive(url, key, 16, seconds, steps)
    done.set()
    sampler.join()
    rss = [r for _, r in samples]
    bad = sum(c for s, c in result["statuses"].items() if s >= 500 and s != 503)
    mib = 2**20
    print(f"soak {seconds:.0f}s at 16 clients: requests={sum(result['statuses'].values())} req/s={result['rps']:.2f} "
          f"RSS start={rss[0] / mib:.0f} MiB max={max(rss) / mib:.0f} MiB end={rss[-1] / mib:.0f} MiB "
          f"({(rss[-1] - rss[0]) / rss[0] * 100:+.1f}%; after the first minute "
          f"{_after_warmup(samples) / mib:+.0f} MiB)  unintended 5xx={bad}  503s={result['statuses'].get(503, 0)}",
          flush=True)
    print("soak RSS samples (s, MiB): " + " ".join(f"{t:.0f}:{r / mib:.0f}" for t, r in samples), flush=True)


def _after_warmup(samples: list[tuple[float, int]]) -> float:
    """RSS growth from the first sample after 60 s to the end (allocators and caches settle in the first minute)."""
    settled = [r for t, r in samples if t >= 60] or [samples[-1][1]]
    return samples[-1][1] - settled[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, help="diffusers folder; default a tiny random model")
    ap.add_argument("--resolution", type=int, default=32, help="of the tiny model")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=30.0, help="per concurrency level")
    ap.add_argument("--batch", type=int, default=16, help="max images per batched generator call")
    ap.add_argument("--batch-wait-ms", type=int, default=50, help="max wait for company in a batch (under load)")
    ap.add_argument("--soak-seconds", type=float, default=600.0, help="0 to skip the soak")
    ap.add_argument("--only", choices=("levels", "greedy", "overhead", "soak"), action="append",
                    help="run only these scenarios (repeatable); default all")
    args = ap.parse_args()
    only = set(args.only or ("levels", "greedy", "overhead", "soak"))

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = args.model or build_tiny_model(tmp / "model", args.resolution)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(model, tmp / "var", port, args.batch, args.batch_wait_ms)
        try:
            key = api_key(url)
            drive(url, key, 2, 5, args.steps)  # warm-up
            if "levels" in only:
                results = {}
                for clients in (1, 4, 16):
                    r = drive(url, key, clients, args.seconds, args.steps)
                    results[clients] = r
                    print(f"clients={clients:2d}  req/s={r['rps']:.2f}  p50={pct(r['latencies'], 50):.3f}s  "
                          f"p95={pct(r['latencies'], 95):.3f}s  n={len(r['latencies'])}  statuses={r['statuses']}",
                          flush=True)
                ratio = results[16]["rps"] / results[1]["rps"]
                print(f"throughput ratio 16/1 = {ratio:.2f}x (goal >= 2.5x)", flush=True)
                metrics = httpx.get(f"{url}/metrics").text
                count = [l for l in metrics.splitlines() if l.startswith("imagine_batch_requests_count")]
                total = [l for l in metrics.splitlines() if l.startswith("imagine_batch_requests_sum")]
                if count and total:
                    print(f"mean requests per generator call = "
                          f"{float(total[0].split()[-1]) / float(count[0].split()[-1]):.2f}")
            if "greedy" in only:
                greedy(url, key, api_key(url), args.seconds, args.steps)
            if "overhead" in only:
                http_p50, base = overhead(model, tmp / "inproc", url, key, args.steps, repeats=20)
                print(f"in-process guarded path p50={base:.3f}s  HTTP p50 (alternating, 1 client)="
                      f"{http_p50:.3f}s  overhead={(http_p50 - base) / base * 100:+.1f}% (goal <= 10%)", flush=True)
            if "soak" in only and args.soak_seconds > 0:
                soak(url, key, server.pid, args.soak_seconds, args.steps)
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
