"""Near-duplicate detection: recall per kind of copy and false matches between distinct images.

    .venv/bin/python benchmarks/near_duplicates.py --images 10000 --queries 300

Images: demo scenes rendered as the demo platform renders them (drawn icons on flat gradient
backgrounds, random sizes and aspect ratios: very similar to each other, the hard case for false
matches) plus procedural "photos" (smooth random fields with texture). Distinct by construction:
every scene description is different.

Recall: ``--queries`` originals per kind are copied (JPEG re-encode at quality 60, resize to 50%,
crop keeping 90/80/70% (+-2.5) of each side at a random position, rotation by 3-5 degrees, a 10% border)
and looked up among all the images; a hit is the original among the confirmed matches.
False matches: every image looked up among all the others (the dedupe situation): the share of
images that match any *other* image, and the share of pairs.

Methods compared (``--methods``): ``phash`` (one imagehash phash per image, <= 4 bits, the old
dedupe), ``pdq`` (the ``pdqhash`` package if installed, <= 31 bits), ``multiregion`` (hash
candidates only, no pixel check) and ``multiregion+check`` (what the dataset uses).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time

import numpy as np
from PIL import Image, ImageFilter, ImageOps


def procedural(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    """A photo-like picture: a few octaves of smooth noise per channel, plus fine texture."""
    img = np.zeros((h, w, 3), np.float32)
    for octave, amp in ((4, 90.0), (8, 45.0), (16, 20.0)):
        small = rng.standard_normal((octave, octave, 3)).astype(np.float32)
        up = np.asarray(Image.fromarray(((small - small.min()) / (np.ptp(small) + 1e-6) * 255).astype(np.uint8))
                        .resize((w, h), Image.Resampling.BICUBIC), np.float32) - 127.5
        img += up * amp / 127.5
    img += rng.normal(0, 6, img.shape)
    return Image.fromarray(np.clip(img + rng.uniform(60, 190, 3), 0, 255).astype(np.uint8), "RGB")


def corpus(n: int, seed: int = 0) -> list[Image.Image]:
    from imagine.platform.render import render_scene
    from imagine.platform.scenes import sample_scene

    rng, nrng = random.Random(seed), np.random.default_rng(seed)
    seen, out = set(), []
    n_photo = n // 5
    while len(out) < n - n_photo:
        scene = sample_scene(rng, held_out=None)
        key = scene.to_json()
        if key in seen:
            continue
        seen.add(key)
        longest = rng.randint(96, 320)
        aw, ah = rng.choice(((1, 1), (4, 3), (3, 4), (16, 9), (3, 2)))
        size = (longest, max(48, round(longest * ah / aw))) if aw >= ah else (max(48, round(longest * aw / ah)), longest)
        out.append(render_scene(scene, *size))
    for _ in range(n_photo):
        w, h = rng.randint(96, 320), rng.randint(96, 320)
        out.append(procedural(nrng, w, h))
    return out


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _crop(img: Image.Image, keep: float, rng: random.Random) -> Image.Image:
    """Keep ``keep`` (+-0.025, so the window grid is not favoured) of each side, at a random position."""
    keep += rng.uniform(-0.025, 0.025)
    w, h = img.size
    cw, ch = round(w * keep), round(h * keep)
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    return _jpeg(img.crop((x, y, x + cw, y + ch)), 90)


def _rotate(img: Image.Image, rng: random.Random) -> Image.Image:
    angle = rng.choice((-1, 1)) * rng.uniform(3, 5)
    fill = tuple(int(c) for c in np.asarray(img).reshape(-1, 3).mean(0))
    return _jpeg(img.rotate(angle, Image.Resampling.BICUBIC, expand=False, fillcolor=fill), 90)


def _border(img: Image.Image, rng: random.Random) -> Image.Image:
    pad = round(0.1 * max(img.size))
    return _jpeg(ImageOps.expand(img, pad, fill=rng.choice(((255, 255, 255), (0, 0, 0)))), 90)


KINDS = {
    "re-encode": lambda img, rng: _jpeg(img, 60),
    "resize": lambda img, rng: _jpeg(img.resize((max(32, img.width // 2), max(32, img.height // 2)),
                                                Image.Resampling.LANCZOS), 85),
    "crop 10%": lambda img, rng: _crop(img, 0.9, rng),
    "crop 20%": lambda img, rng: _crop(img, 0.8, rng),
    "crop 30%": lambda img, rng: _crop(img, 0.7, rng),
    "rotation 3-5 deg": _rotate,
    "border 10%": _border,
}


class Method:
    name = ""

    def index(self, images: list[Image.Image]) -> None: ...

    def query(self, img: Image.Image, exclude: int | None = None) -> set[int]: ...


class PHash(Method):
    name = "phash"

    def index(self, images):
        import imagehash

        self.h = np.array([int(str(imagehash.phash(i)), 16) for i in images], dtype=np.uint64)

    def query(self, img, exclude=None):
        import imagehash

        d = np.bitwise_count(self.h ^ np.uint64(int(str(imagehash.phash(img)), 16)))
        return {int(i) for i in np.flatnonzero(d <= 4)} - {exclude}


class PDQ(Method):
    name = "pdq"

    def index(self, images):
        import pdqhash

        self.h = np.array([np.packbits(pdqhash.compute(np.asarray(i.convert("RGB")))[0]) for i in images])

    def query(self, img, exclude=None):
        import pdqhash

        q = np.packbits(pdqhash.compute(np.asarray(img.convert("RGB")))[0])
        d = np.unpackbits(self.h ^ q, axis=1).sum(1)
        return {int(i) for i in np.flatnonzero(d <= 31)} - {exclude}


class MultiRegion(Method):
    def __init__(self, check: bool) -> None:
        self.check = check
        self.name = "multiregion+check" if check else "multiregion"

    def index(self, images):
        from imagine.dataset.neardup import FingerprintIndex, fingerprint

        fps = [fingerprint(i) for i in images]
        self.idx = FingerprintIndex(np.stack([f.hashes for f in fps]), np.stack([f.thumb for f in fps]))

    def query(self, img, exclude=None):
        from imagine.dataset import neardup as nd

        fp = nd.fingerprint(img)
        if not self.check:
            return {c.row for c in self.idx.candidates(fp, nd.MAX_DISTANCE)} - {exclude}
        return {r for r, _, _ in self.idx.matches(fp)} - {exclude}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--queries", type=int, default=300, help="originals copied per kind")
    parser.add_argument("--false-queries", type=int, default=None, help="images checked for false matches (default: all)")
    parser.add_argument("--methods", default="phash,pdq,multiregion,multiregion+check")
    parser.add_argument("--json", type=str, default=None, help="also write the results here")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    images = corpus(args.images)
    print(f"{len(images)} distinct images in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    methods: list[Method] = []
    for name in args.methods.split(","):
        if name == "pdq":
            try:
                import pdqhash  # noqa: F401
            except ImportError:
                print("pdqhash not installed: skipping pdq", file=sys.stderr)
                continue
        methods.append({"phash": PHash, "pdq": PDQ}.get(name, lambda: MultiRegion(name.endswith("+check")))()
                       if name in ("phash", "pdq") else MultiRegion(name.endswith("+check")))
    rng = random.Random(1)
    picks = rng.sample(range(len(images)), args.queries)
    copies = {kind: [(i, fn(images[i], random.Random(i * 31 + k))) for i in picks]
              for k, (kind, fn) in enumerate(KINDS.items())}
    fq = range(len(images)) if args.false_queries is None else rng.sample(range(len(images)), args.false_queries)
    results = {"images": len(images), "queries_per_kind": args.queries, "false_match_queries": len(fq), "methods": {}}
    for m in methods:
        c0 = time.process_time()
        m.index(images)
        index_s = time.process_time() - c0
        row = {"index_cpu_ms_per_image": round(1000 * index_s / len(images), 3), "recall": {}}
        for kind, pairs in copies.items():
            row["recall"][kind] = round(sum(i in m.query(img) for i, img in pairs) / len(pairs), 4)
        c0 = time.process_time()
        false_images, false_pairs = 0, 0
        for i in fq:
            hits = m.query(images[i], exclude=i)
            false_images += bool(hits)
            false_pairs += len(hits)
        row["query_cpu_ms"] = round(1000 * (time.process_time() - c0) / len(fq), 3)
        row["false_match_images"] = false_images
        row["false_match_rate"] = round(false_images / len(fq), 5)
        row["false_pairs_rate"] = false_pairs / (len(fq) * (len(images) - 1))
        results["methods"][m.name] = row
        print(m.name, json.dumps(row), file=sys.stderr)
    print(json.dumps(results, indent=2))
    kinds = list(KINDS)
    print(f"{'method':<20}" + "".join(f"{k:>17}" for k in kinds) + f"{'false (images)':>16}")
    for name, row in results["methods"].items():
        print(f"{name:<20}" + "".join(f"{row['recall'][k]:>17.3f}" for k in kinds) + f"{row['false_match_rate']:>16.4%}")
    if args.json:
        from pathlib import Path

        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
