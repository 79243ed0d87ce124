"""Arena ranking quality and speed: interval coverage of the Bradley–Terry bootstrap on simulated votes.

    .venv/bin/python benchmarks/arena.py [--repetitions 200] [--votes 600] [--bootstrap 1000]

Votes are drawn from known strengths (5 contestants, pairs uniform, outcomes Bernoulli per the BT model,
5 % "both bad" added, optional ties with --ties); prints the fraction of 95 % intervals that cover the true centred
strength (goal >= 0.85, ideally ~0.95), how often the full order is recovered, and the fit time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from imagine.eval.arena import Vote, rank_votes, simulate_votes

TRUE = {"m0": -1.2, "m1": -0.4, "m2": 0.1, "m3": 0.5, "m4": 1.0}


def simulate(rng: np.random.Generator, n: int, tie_rate: float, both_bad_rate: float) -> list[Vote]:
    return simulate_votes(rng, TRUE, n, tie_rate=tie_rate, both_bad_rate=both_bad_rate)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repetitions", type=int, default=200)
    parser.add_argument("--votes", type=int, default=600)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--ties", type=float, default=0.0, help="tie rate (ties shrink true differences: coverage drops)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    mean = sum(TRUE.values()) / len(TRUE)
    truth = {k: v - mean for k, v in TRUE.items()}
    order = sorted(TRUE, key=TRUE.get, reverse=True)
    covered = total = ordered = 0
    seconds = []
    for rep in range(args.repetitions):
        votes = simulate(rng, args.votes, args.ties, 0.05)
        t0 = time.perf_counter()
        result = rank_votes(votes, bootstrap=args.bootstrap, seed=rep)
        seconds.append(time.perf_counter() - t0)
        ordered += [s.contestant for s in result.standings] == order
        for s in result.standings:
            covered += s.low <= truth[s.contestant] <= s.high
            total += 1
    print(f"coverage of 95% intervals: {covered / total:.3f} ({covered}/{total}); goal >= 0.85")
    print(f"full order recovered: {ordered / args.repetitions:.3f} of {args.repetitions} arenas of {args.votes} votes")
    print(f"fit + {args.bootstrap} bootstrap refits: median {np.median(seconds) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
