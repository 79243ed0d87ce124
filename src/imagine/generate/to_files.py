"""`imagine generate` as a library call: prompts in, PNG files out.

Why a separate function: the CLI stays a shim, and scripts or notebooks get exactly what the CLI does,
with the same parameters and defaults (``None`` means the configured default).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from imagine.atomic import atomic_write
from imagine.generate.requests import GenerationRequest, GenerationResult


def _slug(text: str, limit: int = 40) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-") or "prompt"


def save_png(image, path: Path) -> None:
    """Write a PNG atomically (temp file in the same folder, then rename); ``image`` is a PIL image or PNG bytes."""
    if not isinstance(image, bytes):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        image = buffer.getvalue()
    atomic_write(path, image)


def generate_to_dir(
    prompts: list[str],
    out: Path,
    *,
    n: int = 4,
    seed: int | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    negative: str | None = None,
    sampler: str | None = None,
    model: Path | None = None,
    lora: Path | None = None,
    provenance: bool = False,
) -> list[tuple[GenerationResult, list[Path]]]:
    """Generate ``n`` images for every prompt in one batched call and write ``out/<i>-<slug>-<seed>.png``.

    Every prompt uses the same base ``seed`` (a random one when None), so prompt A's images are the same
    whether or not prompt B was asked for alongside it. Without ``provenance`` the files are the model's
    raw output (bit-identical for a seed); with it each is stamped as the service delivers images
    (watermark with a fresh generation id, label, metadata, signed C2PA), so `imagine verify` knows it.
    """
    import secrets

    from imagine.config import get_settings
    from imagine.generate.core import Generator

    if not prompts:
        raise ValueError("give at least one prompt")
    cfg = get_settings().generate
    base = seed if seed is not None else secrets.randbelow(2**31)
    requests = [
        GenerationRequest(
            prompt=p, n=n, seed=base,
            steps=cfg.steps if steps is None else steps,
            guidance=cfg.guidance if guidance is None else guidance,
            negative_prompt=negative,
            sampler=cfg.sampler if sampler is None else sampler,
        )
        for p in prompts
    ]
    generator = Generator.load(model, lora=lora)
    written: list[tuple[GenerationResult, list[Path]]] = []
    for i, result in enumerate(generator.generate(requests)):
        paths = []
        for image, image_seed in zip(result.images, result.seeds):
            path = Path(out) / f"{i:02d}-{_slug(prompts[i])}-{image_seed}.png"
            if provenance:
                from imagine.guard.metadata import GenerationInfo
                from imagine.guard.provenance import stamp

                request = requests[i]
                image = stamp(image, GenerationInfo(prompt=request.prompt, model_id=result.model_id, seed=image_seed,
                                                    steps=request.steps, guidance=request.guidance,
                                                    sampler=request.sampler, negative_prompt=request.negative_prompt))
            save_png(image, path)
            paths.append(path)
        written.append((result, paths))
    return written
