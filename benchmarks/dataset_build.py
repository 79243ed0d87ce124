"""Dataset build throughput and revocation cost.

    .venv/bin/python benchmarks/dataset_build.py --posts 50000 --rows 200000

Prints, in one run:
1. images/s per core: a bare Pillow loop (open, JPEG draft, decode, RGB, centre-crop/resize to the
   training resolution) over the files the build fetches; the whole build with the local runner
   (1 and 2 workers) and with the Ray runner (local Ray, 2 CPUs); ratios local/bare and 2w/1w.
   "images" = posts whose file the build fetched (consent and caption rules pass); the whole build
   includes consent, captions, validation, hashing, PNG encoding, dedupe, Lance
   write and indices. Per-stage rates come from the single-worker build.
2. seconds to apply N revocations (post_deleted events) to a ROWS-row dataset, purge it and prove
   erasure (the rows are synthetic but realistic: demo PNGs made unique, random hashes).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import sys
import tempfile
import time
import zlib
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def cpu_seconds() -> float:
    """User + system CPU time of this process and its reaped children (pool workers)."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def bare_loop(paths: list[Path], resolution: int) -> tuple[float, float]:
    """(images/s wall, images per CPU-second) of the plain Pillow decode + resize loop (one core)."""
    from PIL import Image, ImageOps

    c0 = cpu_seconds()
    t0 = time.perf_counter()
    for p in paths:
        try:
            with Image.open(p) as img:
                if img.format == "JPEG":
                    img.draft("RGB", (2 * resolution, 2 * resolution))
                img = img.convert("RGB")
                ImageOps.fit(img, (resolution, resolution), method=Image.Resampling.BICUBIC)
        except (OSError, ValueError, SyntaxError):
            pass  # the corrupt files the build rejects cost the bare loop an attempt too
    return len(paths) / (time.perf_counter() - t0), len(paths) / (cpu_seconds() - c0)


def fetched_paths(platform: Path, out: Path) -> list[Path]:
    """Files the build actually opened: posts that got past consent and caption rules."""
    import pyarrow.parquet as pq

    from imagine.dataset import schema as s
    from imagine.dataset.write import read_decisions

    pre_fetch = set(s.CONSENT_REASONS) | {s.CAPTION_NOT_ENGLISH, s.CAPTION_EMPTY, s.CAPTION_TOO_LONG}
    dec = read_decisions(out).to_pylist()
    fetched = {r["post_id"] for r in dec if r["reason"] not in pre_fetch}
    posts = pq.read_table(platform / "posts.parquet", columns=["post_id", "image_uri"]).to_pylist()
    return [platform / r["image_uri"] for r in posts if r["post_id"] in fetched and (platform / r["image_uri"]).is_file()]


def timed_build(platform: Path, out: Path, **kw):
    from imagine.dataset.build import build_dataset

    shutil.rmtree(out, ignore_errors=True)
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    report = build_dataset(platform / "posts.parquet", platform / "owners.parquet", None, out, progress=False, **kw)
    # Pool workers are forked by the fork server, not by us: their CPU comes back with the report.
    return report, time.perf_counter() - t0, cpu_seconds() - c0 + report.pool_cpu_seconds


def _unique_png(png: bytes, tag: int) -> bytes:
    """The same PNG with a tEXt chunk that makes its bytes unique."""
    data = f"n\x00{tag}".encode()
    chunk = len(data).to_bytes(4, "big") + b"tEXt" + data + zlib.crc32(b"tEXt" + data).to_bytes(4, "big")
    return png[:-12] + chunk + png[-12:]


def synthetic_dataset(out: Path, rows: int, source: Path, seed: int = 0) -> list[tuple[str, str]]:
    """A committed ``rows``-row dataset version built from the PNGs of ``source``; returns (post, owner) ids."""
    import numpy as np
    import pyarrow as pa

    from imagine.dataset import neardup
    from imagine.dataset import schema as s
    from imagine.dataset.card import write_card
    from imagine.dataset.versions import VersionInfo, commit_version, now_utc, open_images
    from imagine.dataset.write import append_decisions, build_indices, write_images_local

    rng = np.random.default_rng(seed)
    pngs = open_images(source).to_table(columns=["image"]).column(0).to_pylist()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    ids = [(f"p{i:08d}", f"u{i % (rows // 20 + 1):06d}") for i in range(rows)]
    chunk = 20000
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        part = ids[start:start + n]
        hashes = rng.integers(0, 2**63, n, dtype=np.int64)
        bits = ((hashes[:, None] >> np.arange(64)) & 1).astype(np.float32)
        table = pa.table({
            "post_id": [p for p, _ in part], "owner_id": [o for _, o in part],
            "image": [_unique_png(pngs[(start + i) % len(pngs)], start + i) for i in range(n)],
            "caption": ["a synthetic caption"] * n, "raw_caption": ["a synthetic caption"] * n,
            "sha256": [os.urandom(32).hex() for _ in range(n)], "phash": [f"{h:016x}" for h in hashes],
            "policy_version": ["default@bench"] * n,
            "phash_bits": pa.FixedSizeListArray.from_arrays(pa.array(bits.reshape(-1)), 64),
            # Random fingerprint bytes of the real sizes (unique, so the erasure proof can tell rows apart).
            "fp_hashes": [os.urandom(8 * neardup.K) for _ in range(n)],
            "fp_thumb": [os.urandom(3 * neardup.THUMB**2) for _ in range(n)],
            "descriptive_caption": pa.nulls(n, pa.string()),
        }).cast(s.IMAGES_SCHEMA)
        if start == 0:
            write_images_local(table, out)
        else:
            import lance

            lance.write_dataset(table, str(out / "images.lance"), schema=s.IMAGES_SCHEMA, mode="append")
    version = build_indices(out)
    now = now_utc()
    append_decisions(out, pa.table({"dataset_version": [version] * rows, "post_id": [p for p, _ in ids],
                                    "owner_id": [o for _, o in ids], "included": [True] * rows,
                                    "reason": ["included"] * rows, "detail": [None] * rows,
                                    "event_id": [None] * rows, "event_ts": pa.nulls(rows, s.TS),
                                    "policy_version": ["default@bench"] * rows, "decided_at": [now] * rows}))
    card = {"dataset": out.name, "version": version, "kind": "build", "created_at": now.isoformat(), "rows": rows,
            "posts": rows, "counts_by_reason": {"included": rows}, "resolution": 64,
            "policy": {"label": "default@bench", "digest": "-", "source": "synthetic"}, "sources": {},
            "code_version": "benchmark"}
    cdir = write_card(out, card)
    commit_version(out, VersionInfo(version, "build", now.isoformat(), rows, "default@bench",
                                    str(cdir.relative_to(out))))
    return ids


def revocation_benchmark(work: Path, rows: int, revocations: int, source: Path) -> dict:
    from imagine.dataset.events import apply_events
    from imagine.dataset.purge import purge

    out = work / "revocation-ds"
    t0 = time.perf_counter()
    ids = synthetic_dataset(out, rows, source)
    setup = time.perf_counter() - t0
    picked = random.Random(1).sample(ids, revocations)
    events = work / "revocations.jsonl"
    events.write_text("".join(json.dumps({"event_id": f"e{i:06d}", "ts": "2026-01-01T00:00:00Z",
                                          "type": "post_deleted", "owner_id": o, "post_id": p}) + "\n"
                              for i, (p, o) in enumerate(picked)))
    t0 = time.perf_counter()
    applied = apply_events(out, events)
    t_apply = time.perf_counter() - t0
    t0 = time.perf_counter()
    purged = purge(out)
    t_purge = time.perf_counter() - t0
    return {"rows": rows, "revocations": applied.revoked, "setup_s": setup, "apply_s": t_apply, "purge_s": t_purge,
            "purge_timings": purged.timings, "proof": purged.proof.as_dict(), "total_s": t_apply + t_purge}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=50000)
    parser.add_argument("--rows", type=int, default=200000)
    parser.add_argument("--revocations", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--work", type=Path, default=None, help="Work folder (default: a temporary one).")
    args = parser.parse_args(argv)

    from imagine.platform.demo import generate_demo

    work = args.work or Path(tempfile.mkdtemp(prefix="imagine-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    platform = work / f"platform-{args.posts}"
    if not (platform / "posts.parquet").exists():
        generate_demo(platform, posts=args.posts, seed=0, progress=False)

    results: dict = {"posts": args.posts}
    r1, t1, c1 = timed_build(platform, work / "ds-local-1", workers=1)
    paths = fetched_paths(platform, work / "ds-local-1")
    fetched = len(paths)
    bare, bare_cpu = bare_loop(paths, 64)
    results["fetched_images"] = fetched
    results["bare_pillow_images_per_s_per_core"] = bare
    results["bare_pillow_images_per_cpu_s"] = bare_cpu
    results["local_1w_images_per_s_per_core"] = fetched / t1
    results["local_1w_images_per_cpu_s"] = fetched / c1
    results["local_1w_stage_rows_per_s"] = {k: round(v, 1) for k, v in r1.rates().items()}
    r2, t2, c2 = timed_build(platform, work / "ds-local-2", workers=args.workers)
    results[f"local_{args.workers}w_images_per_s_per_core"] = fetched / t2 / args.workers
    results[f"local_{args.workers}w_images_per_cpu_s"] = fetched / c2
    results["scaling_1_to_n_workers"] = t1 / t2
    # What the wall-clock speed-up would be on idle cores: n x (CPU per image with 1) / (with n).
    results["scaling_projected_idle_cores"] = args.workers * c1 / c2
    if not args.no_ray:
        import ray

        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
        try:
            _, tr, _ = timed_build(platform, work / "ds-ray", ray_address="local")
        finally:
            ray.shutdown()
        results["ray_images_per_s_per_core"] = fetched / tr / args.workers
    results["local_vs_bare"] = results["local_1w_images_per_s_per_core"] / bare
    results["local_vs_bare_cpu"] = results["local_1w_images_per_cpu_s"] / bare_cpu
    print(json.dumps(results, indent=2, default=str), flush=True)  # the build figures, before the long part
    rev = revocation_benchmark(work, args.rows, args.revocations, work / "ds-local-1")
    results["revocation"] = rev

    print(json.dumps(results, indent=2, default=str))
    print(f"bare Pillow decode+resize: {bare:8.1f} images/s per core ({fetched} files)")
    print(f"local runner, 1 worker:    {results['local_1w_images_per_s_per_core']:8.1f} images/s per core "
          f"({results['local_vs_bare']:.2f}x bare; goal >= 0.7x)")
    print(f"  per CPU-second (immune to other load): bare {bare_cpu:.1f}, local {results['local_1w_images_per_cpu_s']:.1f} "
          f"({results['local_vs_bare_cpu']:.2f}x)")
    print(f"local runner, {args.workers} workers:   {results[f'local_{args.workers}w_images_per_s_per_core']:8.1f} "
          f"images/s per core (speed-up {results['scaling_1_to_n_workers']:.2f}x wall, "
          f"{results['scaling_projected_idle_cores']:.2f}x projected on idle cores from CPU time; goal >= 1.8x)")
    if "ray_images_per_s_per_core" in results:
        print(f"Ray runner ({args.workers} CPUs):      {results['ray_images_per_s_per_core']:8.1f} images/s per core")
    print(f"{rev['revocations']} revocations on {rev['rows']} rows: apply {rev['apply_s']:.1f}s + purge&proof "
          f"{rev['purge_s']:.1f}s = {rev['total_s']:.1f}s (goal < 60s); proof erased={rev['proof']['erased']}")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
