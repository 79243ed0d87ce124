"""Demo platform throughput and memory: posts/s and peak RSS for a 20k-post corpus.

    .venv/bin/python benchmarks/platform_demo.py [--posts 20000] [--workers N]

CPU time per post is reported too: unlike posts/s it does not depend on how busy the machine is.
Peak RSS is reported for the main process and for the largest encoding worker (getrusage), so a
streamed, bounded-memory writer shows a flat figure whatever --posts is.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from imagine.platform.demo import default_workers, generate_demo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=default_workers())
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        summary = generate_demo(Path(tmp), posts=args.posts, seed=args.seed, progress=False, workers=args.workers)
        seconds = time.perf_counter() - started
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    main_rss, child_rss = me.ru_maxrss / 1024, children.ru_maxrss / 1024
    cpu = me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime
    print(f"posts: {summary.posts}  workers: {args.workers}  seconds: {seconds:.1f}  corpus: {size / 2**20:.0f} MiB")
    print(f"posts/s: {summary.posts / seconds:.0f}")
    # Wall time depends on how busy the machine is; CPU time per post does not.
    print(f"CPU ms/post: {1000 * cpu / summary.posts:.2f}  (posts per CPU-second: {summary.posts / cpu:.0f})")
    print(f"peak RSS: main {main_rss:.0f} MiB, largest worker {child_rss:.0f} MiB")


if __name__ == "__main__":
    main()
