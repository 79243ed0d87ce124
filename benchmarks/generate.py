"""Generation speed and quality vs steps, and our loop's overhead against a bare diffusers loop.

    .venv/bin/python benchmarks/generate.py                       # shipped default model
    .venv/bin/python benchmarks/generate.py --model PATH --prompts-per-category 2 --repeats 3

For 4 images of one prompt, at 10, 20 and 30 DPM-Solver++ steps: seconds split into text encoding /
denoising / post-processing (best of ``--repeats`` runs: on a shared CPU noise only ever adds time),
and the compositional benchmark score at that step count. Then the same model, prompt, seeds and
sampler through a bare loop written plainly (encode, ``scheduler.step`` loop, decode), interleaved
with ours run by run so a busy CPU hurts both alike; the images must match bit for bit.
Judged by: ``ratio ours/bare`` (goal <= 1.10).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from imagine.eval.compositional import run_compositional
from imagine.generate.core import GenerationRequest, Generator
from imagine.generate.samplers import build_scheduler

PROMPT = "a red circle above a blue car on a grass background"
IMAGES = 4


@torch.inference_mode()
def bare_loop(pipe, prompt: str, seeds: list[int], steps: int, guidance: float) -> list:
    """The textbook diffusers loop: encode, noise, scheduler.step per step with CFG, decode, to PIL."""
    from PIL import Image

    device = pipe.unet.device
    n = len(seeds)
    mask = None
    if hasattr(pipe.text_encoder, "encode"):  # ImaginePipeline: [uncond; cond] states and masks
        states, mask = pipe.encode_prompt([prompt], None, n, True)
    else:  # Stable-Diffusion-shaped
        cond, uncond = pipe.encode_prompt(prompt, device, n, True)
        states = torch.cat([uncond, cond])
    size = pipe.unet.config.sample_size
    shape = (1, pipe.unet.config.in_channels, size, size)
    latents = torch.cat([torch.randn(shape, generator=torch.Generator().manual_seed(s)) for s in seeds]).to(device)
    scheduler = build_scheduler("dpmpp", pipe.scheduler.config)
    scheduler.set_timesteps(steps, device=device)
    latents = latents * scheduler.init_noise_sigma
    extra = {} if mask is None else {"encoder_attention_mask": mask}
    for t in scheduler.timesteps:
        model_in = scheduler.scale_model_input(torch.cat([latents] * 2), t)
        noise_uncond, noise_cond = pipe.unet(model_in, t, encoder_hidden_states=states, **extra).sample.chunk(2)
        latents = scheduler.step(noise_uncond + guidance * (noise_cond - noise_uncond), t, latents).prev_sample
    if getattr(pipe, "vae", None) is not None:
        latents = pipe.vae.decode(latents / pipe.vae.config.scaling_factor).sample
    images = ((latents / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy() * 255).round().astype("uint8")
    return [Image.fromarray(a) for a in images]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="diffusers folder (default: the shipped model)")
    parser.add_argument("--steps", type=int, nargs="+", default=[10, 20, 30])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--prompts-per-category", type=int, default=5, help="compositional prompts per category at each step count (0: skip the score)")
    parser.add_argument("--guidance", type=float, default=4.0)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (1: steadiest on a shared CPU; 0: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    gen = Generator.load(args.model)
    seeds = list(range(IMAGES))
    print(f"model {gen.model_id}  images {gen.image_size[0]}x{gen.image_size[1]}  device {gen.device}  "
          f"threads {torch.get_num_threads()}  {IMAGES} images of {PROMPT!r}")
    request = lambda steps: GenerationRequest(PROMPT, n=IMAGES, seed=0, steps=steps, guidance=args.guidance)  # noqa: E731
    gen.generate([request(2)])  # warm-up
    bare_loop(gen.pipe, PROMPT, seeds, 2, args.guidance)

    print(f"{'steps':>5} {'text s':>8} {'denoise s':>10} {'post s':>8} {'total s':>8} {'bare s':>8} {'ours/bare':>9} {'score':>6} {'paraphr':>7}")
    ratios = {}
    for steps in args.steps:
        ours, bare = [], []
        for _ in range(args.repeats):
            ours.append(gen.generate([request(steps)])[0].timings)
            t0 = time.perf_counter()
            bare_images = bare_loop(gen.pipe, PROMPT, seeds, steps, args.guidance)
            bare.append(time.perf_counter() - t0)
        ours_images = gen.generate([request(steps)])[0].images
        same = all(a.tobytes() == b.tobytes() for a, b in zip(ours_images, bare_images))
        best = min(ours, key=lambda t: t["total"])
        med = {k: best[k] for k in ("text_encoding", "denoising", "postprocessing", "total")}
        bare_s = min(bare)
        ratios[steps] = med["total"] / bare_s
        score, paraphrased = float("nan"), float("nan")
        if args.prompts_per_category > 0:
            report = run_compositional(generator=gen, steps=steps, guidance=args.guidance,
                                       prompts_per_category=args.prompts_per_category, progress=False)
            score, paraphrased = report.overall, report.paraphrased
        print(f"{steps:>5} {med['text_encoding']:>8.3f} {med['denoising']:>10.3f} {med['postprocessing']:>8.3f} "
              f"{med['total']:>8.3f} {bare_s:>8.3f} {ratios[steps]:>9.3f} {score:>6.3f} {paraphrased:>7.3f}"
              f"{'' if same else '  (images differ from bare!)'}")
    worst = max(ratios.values())
    print(f"ratio ours/bare: {worst:.3f} (worst over step counts; goal <= 1.10) -> {'OK' if worst <= 1.10 else 'ABOVE GOAL'}")


if __name__ == "__main__":
    main()
