"""An SD-1.5-sized pipeline (random weights) through our Generator on a GPU: fp16, PyTorch SDPA attention.

    .venv/bin/python benchmarks/sd15_generate.py                          # GPU: 512 px, 20 steps, batches of 4
    .venv/bin/python benchmarks/sd15_generate.py --shape tiny --device cpu --resolution 32 --steps 2   # CPU smoke run

Why: the serving path (``imagine.generate.core.Generator``: batching, per-image seeds, CFG, samplers,
previews) is exercised every day on the small pixel-space default; this shows it works, and how fast,
on a Stable-Diffusion-sized latent model on the hardware such a model needs. Random weights: the
pictures are noise, the timings are real. Built straight on the device (no download, no disk).
Prints seconds per image and images per second (after one warm-up call); with ``$OUT`` set (or
``--json``) writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def run(shape: str = "sd15", device: str | None = None, resolution: int = 512, steps: int = 20, batch: int = 4,
        repeats: int = 3, sampler: str = "dpmpp") -> dict:
    import torch
    from diffusers.models.attention_processor import AttnProcessor2_0

    from imagine.generate.core import GenerationRequest, Generator
    from imagine.model.tiny_sd import tiny_sd_pipeline

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    t0 = time.perf_counter()
    with torch.device(device):
        pipe = tiny_sd_pipeline(resolution, seed=0, shape=shape)
    pipe = pipe.to(device=device, dtype=dtype)
    pipe.unet.set_attn_processor(AttnProcessor2_0())  # scaled_dot_product_attention (flash / memory-efficient on GPU)
    pipe.vae.set_attn_processor(AttnProcessor2_0())
    pipe.set_progress_bar_config(disable=True)
    build_seconds = time.perf_counter() - t0
    gen = Generator(pipe, f"random-{shape}")
    request = GenerationRequest("a red car left of a green tree", n=batch, seed=1, steps=steps, sampler=sampler)

    def once() -> float:
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        [result] = gen.generate([request])
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        assert len(result.images) == batch and result.images[0].size == (resolution, resolution)
        return time.perf_counter() - start

    once()  # warm-up: kernels, allocator, cuDNN autotuning
    times = [once() for _ in range(repeats)]
    best = min(times)
    figures = {
        "shape": shape, "device": device, "gpu": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
        "dtype": str(dtype).removeprefix("torch."), "attention": "sdpa", "resolution": resolution, "steps": steps,
        "batch": batch, "sampler": sampler, "unet_parameters": sum(p.numel() for p in pipe.unet.parameters()),
        "build_seconds": round(build_seconds, 2), "seconds_per_call": [round(t, 3) for t in times],
        "seconds_per_image": round(best / batch, 4), "images_per_second": round(batch / best, 3),
        "peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if device.startswith("cuda") else None,
    }
    return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="sd15", choices=("sd15", "tiny"))
    parser.add_argument("--device", default=None, help="cuda (default when available) or cpu")
    parser.add_argument("--resolution", type=int, default=512)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here (default: $OUT/sd15_generate.json)")
    args = parser.parse_args(argv)
    figures = run(args.shape, args.device, args.resolution, args.steps, args.batch, args.repeats)
    target = args.json or (Path(os.environ["OUT"]) / "sd15_generate.json" if os.environ.get("OUT") else None)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))
    print(f"{figures['shape']} on {figures['gpu'] or figures['device']}: {figures['seconds_per_image']:.3f} s/image, "
          f"{figures['images_per_second']:.2f} images/s at {args.resolution} px, {args.steps} steps")
    return figures


if __name__ == "__main__":
    main()
