"""Prompt-policy latency: milliseconds per check after load (goal < 20 ms/prompt on CPU).

    .venv/bin/python benchmarks/policy_latency.py [--repeat 3]

Checks every prompt of the shipped labelled set (src/imagine/eval/policy_set.jsonl) `repeat`
times with one loaded policy and prints load time, mean / p50 / p95 ms per prompt overall and for
prompts that reach the semantic stage (allowed ones: every stage runs), plus the share of the goal.
Timings depend on how busy the CPU is; the machine's load average is printed alongside.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from imagine.eval.policy import load_set
from imagine.guard.policy import PromptPolicy

GOAL_MS = 20.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    policy = PromptPolicy.load()
    load_s = time.perf_counter() - start
    rows = load_set()
    policy.check("warm-up")
    every, full = [], []
    for _ in range(args.repeat):
        for row in rows:
            t = time.perf_counter()
            decision = policy.check(row["prompt"])
            ms = (time.perf_counter() - t) * 1000
            every.append(ms)
            if decision.allowed:
                full.append(ms)
    q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))]  # noqa: E731
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; policy load {load_s:.1f} s")
    print(f"all checks      n={len(every)}: mean {statistics.mean(every):.1f} ms, p50 {q(every, .5):.1f}, p95 {q(every, .95):.1f}")
    print(f"allowed (full)  n={len(full)}: mean {statistics.mean(full):.1f} ms, p50 {q(full, .5):.1f}, p95 {q(full, .95):.1f}")
    print(f"mean ms/prompt {statistics.mean(every):.1f} (goal < {GOAL_MS:.0f}: {'met' if statistics.mean(every) < GOAL_MS else 'not met'})")


if __name__ == "__main__":
    main()
