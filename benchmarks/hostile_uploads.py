"""Hostile uploads: peak memory and CPU of opening a decompression bomb, plain Pillow vs `imagine.images`.

    .venv/bin/python benchmarks/hostile_uploads.py [--side 12000]

The file is a complete, valid 1-bit PNG of side x side pixels that compresses to a few KB (17 KB at
12000). Each way runs in its own fresh process, so the peak RSS (ru_maxrss) is that way's alone:
"pillow" is what the upload routes did before (Image.open, exif_transpose, convert("RGB")),
"open_image" is the one helper every upload now uses. Prints both peaks, CPU times and the ratio
(goal: open_image refuses from the header, within a few MB and a few ms).
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import struct
import subprocess
import sys
import time
import warnings
import zlib


def bomb(side: int) -> bytes:
    row = b"\x00" + bytes((side + 7) // 8)
    raw = zlib.compress(row * side, 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def one(way: str, side: int) -> dict:
    data = bomb(side)
    from PIL import Image, ImageOps

    from imagine.images import ImageRejected, open_image

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.process_time()
    if way == "pillow":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            outcome = "decoded %dx%d" % ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB").size
    else:
        try:
            open_image(data)
            outcome = "decoded"
        except ImageRejected as exc:
            outcome = f"refused ({exc.reason})"
    return {"way": way, "bytes": len(data), "outcome": outcome, "cpu_s": time.process_time() - started,
            "peak_rss_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=12000)
    parser.add_argument("--one", choices=["pillow", "open_image"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.side)))
        return
    results = {}
    for way in ("pillow", "open_image"):
        done = subprocess.run([sys.executable, __file__, "--side", str(args.side), "--one", way],
                              capture_output=True, text=True, check=True)
        results[way] = json.loads(done.stdout)
        r = results[way]
        print(f"{way:>10}: {r['bytes']} bytes, {r['outcome']}: peak RSS +{r['peak_rss_mb']:.0f} MB, CPU {r['cpu_s']:.3f} s")
    ratio = results["pillow"]["peak_rss_mb"] / max(results["open_image"]["peak_rss_mb"], 1.0)
    print(f"peak memory, pillow / open_image: {ratio:.0f}x (open_image counted as at least 1 MB)")


if __name__ == "__main__":
    main()
