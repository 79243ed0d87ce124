"""Prompt-policy latency and load time (goals: p95 <= 50 ms per check on one core, load <= 10 s).

    .venv/bin/python benchmarks/policy_latency.py [--repeat 2]

Loads the policy as the service does (MiniLM in numpy, the learned check, the data files) and
checks every prompt of the corpus's test split ``repeat`` times. Prints load time and per-check
wall and CPU milliseconds (mean / p50 / p95). On a shared machine wall time includes waiting for
a core; CPU time is what one check costs one core, and is the figure judged against the goal.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from imagine.config import get_settings
from imagine.eval.policy import load_set
from imagine.guard.policy import PromptPolicy

GOAL_P95_MS = 50.0
GOAL_LOAD_S = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    wall, cpu = time.perf_counter(), time.process_time()
    policy = PromptPolicy.load(settings=get_settings())
    load_wall, load_cpu = time.perf_counter() - wall, time.process_time() - cpu
    rows = [r for r in load_set() if r["split"] == "test"]
    policy.check("warm-up")
    walls, cpus = [], []
    for _ in range(args.repeat):
        for row in rows:
            w, c = time.perf_counter(), time.process_time()
            policy.check(row["prompt"])
            walls.append((time.perf_counter() - w) * 1000)
            cpus.append((time.process_time() - c) * 1000)
    q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))]  # noqa: E731
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"policy load: wall {load_wall:.1f} s, cpu {load_cpu:.1f} s (goal <= {GOAL_LOAD_S:.0f} s)")
    for name, xs in (("wall", walls), ("cpu", cpus)):
        print(f"{name:4} ms/check n={len(xs)}: mean {statistics.mean(xs):.1f}, p50 {q(xs, .5):.1f}, p95 {q(xs, .95):.1f}")
    p95 = q(cpus, 0.95)
    print(f"p95 cpu ms/check {p95:.1f} (goal <= {GOAL_P95_MS:.0f}: {'met' if p95 <= GOAL_P95_MS else 'not met'})")


if __name__ == "__main__":
    main()
