"""Latency of the per-image guard work the service adds to every delivered image.

    .venv/bin/python benchmarks/guard_provenance.py [--n 20]

Prints milliseconds per image for: output checks (NudeNet), stamp (upscale, label, watermark,
metadata, C2PA signing, ledger), verify of a stamped PNG, and verify of an unmarked image (the
watermark search runs through every scale/rotation hypothesis).
"""

from __future__ import annotations

import argparse
import io
import random
import tempfile
import time
from pathlib import Path

from PIL import Image


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()
    from imagine.config import Settings
    from imagine.guard.metadata import GenerationInfo
    from imagine.guard.nudity import NudityDetector
    from imagine.guard.provenance import Stamper
    from imagine.guard.verify import verify as verify_with

    settings = Settings(data_home=Path(tempfile.mkdtemp(prefix="imagine-bench-")))
    stamper = Stamper.from_settings(settings)  # ledger and signing keys, once, as the service does

    def verify(png: bytes):
        return verify_with(png, settings=settings)
    from imagine.platform.render import render_scene
    from imagine.platform.scenes import sample_scene

    rng = random.Random(0)
    images = [render_scene(sample_scene(rng), 32) for _ in range(args.n)]
    detector = NudityDetector(["FEMALE_BREAST_EXPOSED"], 0.5)
    verify(stamper.stamp(images[0], GenerationInfo("warm-up", "bench", 0)))  # imports, ONNX

    def timed(fn, items) -> float:
        start = time.perf_counter()
        out = [fn(x) for x in items]
        timed.last = out
        return (time.perf_counter() - start) / len(items) * 1000

    ms_nudity = timed(lambda im: detector.check(im.resize((256, 256))), images)
    ms_stamp = timed(lambda im: stamper.stamp(im, GenerationInfo("a red car left of a tree", "bench", 1)), images)
    stamped = timed.last
    ms_verify = timed(verify, stamped)
    plain = []
    for im in images:
        buf = io.BytesIO()
        im.resize((256, 256), Image.Resampling.LANCZOS).save(buf, "PNG")
        plain.append(buf.getvalue())
    ms_verify_plain = timed(verify, plain)
    print(f"images: {args.n}")
    print(f"nudity check ms/image: {ms_nudity:.1f}")
    print(f"stamp ms/image: {ms_stamp:.1f}")
    print(f"verify (stamped) ms/image: {ms_verify:.1f}")
    print(f"verify (unmarked, full search) ms/image: {ms_verify_plain:.1f}")


if __name__ == "__main__":
    main()
