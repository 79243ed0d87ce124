"""Why we did not use `invisible-watermark`: its methods against the same attacks as ours.

    .venv/bin/python benchmarks/watermark_baseline.py [--n 10]

Prints, per method (dwtDct, dwtDctSvd from invisible-watermark; ours), the share of images whose
48-bit payload is read back exactly after each attack, on model-like rendered scenes at 256 px.
"""

from __future__ import annotations

import argparse
import random

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10)
    args = parser.parse_args()
    from imwatermark import WatermarkDecoder, WatermarkEncoder
    from PIL import Image

    from imagine.eval.watermark import ATTACKS, scene_images
    from imagine.guard import watermark as ours

    attacks = {a: ATTACKS[a] for a in ("none", "jpeg90", "jpeg75", "resize0.5", "crop10")}
    hosts = scene_images(args.n, 3, native=32)
    rng = random.Random(0)
    for method in ("dwtDct", "dwtDctSvd", "ours"):
        ok = dict.fromkeys(attacks, 0)
        for host in hosts:
            bits = [rng.getrandbits(1) for _ in range(48)]
            if method == "ours":
                payload = ours.Payload(int("".join(map(str, bits[:32])), 2), int("".join(map(str, bits[32:])), 2))
                marked = ours.embed(host, payload, "bench")
            else:
                enc = WatermarkEncoder()
                enc.set_watermark("bits", bits)
                bgr = enc.encode(np.ascontiguousarray(np.asarray(host)[:, :, ::-1]), method)
                marked = Image.fromarray(np.ascontiguousarray(bgr[:, :, ::-1]))
            for name, attack in attacks.items():
                attacked = attack(marked, rng)
                if method == "ours":
                    ok[name] += ours.detect(attacked, "bench").payload == payload
                else:
                    # the decoder needs the original size; give it the best chance by resizing back
                    back = attacked.resize(host.size, Image.Resampling.BICUBIC)
                    got = WatermarkDecoder("bits", 48).decode(np.ascontiguousarray(np.asarray(back)[:, :, ::-1]), method)
                    ok[name] += list(map(int, got)) == bits
        print(f"{method:10s} " + "  ".join(f"{a}: {ok[a] / len(hosts):.2f}" for a in attacks))


if __name__ == "__main__":
    main()
