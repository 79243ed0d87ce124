"""`imagine generate` as a library call: prompts in, PNG files out.

Why a separate function: the CLI stays a shim, and scripts or notebooks get exactly what the CLI does,
with the same parameters and defaults (``None`` means the configured default).
"""

from __future__ import annotations

import io
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from imagine.atomic import atomic_write
from imagine.generate.requests import GenerationRequest
from imagine.guarded import FolderSink, GuardedGenerator, Refused, slug

if TYPE_CHECKING:
    from imagine.config import Settings


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
    settings: "Settings",
    n: int = 4,
    seed: int | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    negative: str | None = None,
    sampler: str | None = None,
    model: Path | None = None,
    lora: Path | None = None,
    provenance: bool = False,
) -> list[tuple[GenerationRequest, list[Path]]]:
    """Generate ``n`` images for every prompt in one batched call and write ``out/<i>-<slug>-<seed>.png``.

    Every prompt uses the same base ``seed`` (a random one when None), so prompt A's images are the same
    whether or not prompt B was asked for alongside it. Without ``provenance`` the files are the model's
    raw output (bit-identical for a seed). With it they take the service's guarded path
    (`imagine.guarded.GuardedGenerator`): the prompt policy first, then the output guard (withheld images
    are not written), then the provenance stamp (watermark with a fresh generation id, label, metadata,
    signed C2PA), so `imagine verify` knows them. Raises `ValueError` for bad input or a refused prompt.
    """
    from imagine.generate.core import Generator  # torch: loaded only when generating

    if not prompts:
        raise ValueError("give at least one prompt")
    base = seed if seed is not None else secrets.randbelow(2**31)
    generator = Generator.load(model if model is not None else settings.model_path, lora=lora)
    if provenance:
        guarded = GuardedGenerator.from_settings(settings, generator=generator)
        try:
            requests = [guarded.request(p, n=n, seed=base, steps=steps, guidance=guidance, negative_prompt=negative,
                                        sampler=sampler) for p in prompts]
            return list(zip(requests, guarded(requests, FolderSink(Path(out))), strict=True))
        except Refused as err:
            raise ValueError(f"{err.param or 'request'}: {err.message}") from err
    cfg = settings.generate
    requests = [
        GenerationRequest(prompt=p, n=n, seed=base, steps=cfg.steps if steps is None else steps,
                          guidance=cfg.guidance if guidance is None else guidance, negative_prompt=negative,
                          sampler=cfg.sampler if sampler is None else sampler)
        for p in prompts
    ]
    written: list[tuple[GenerationRequest, list[Path]]] = []
    for i, result in enumerate(generator.generate(requests)):
        paths = []
        for image, image_seed in zip(result.images, result.seeds):
            path = Path(out) / f"{i:02d}-{slug(prompts[i])}-{image_seed}.png"
            save_png(image, path)
            paths.append(path)
        written.append((requests[i], paths))
    return written


def edit_to_dir(
    input_path: Path,
    prompt: str,
    out: Path,
    *,
    settings: "Settings",
    mask: Path | None = None,
    strength: float | None = None,
    variation: bool = False,
    n: int = 4,
    seed: int | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    negative: str | None = None,
    sampler: str | None = None,
    model: Path | None = None,
    lora: Path | None = None,
    provenance: bool = False,
) -> tuple[GenerationRequest, list[Path]]:
    """`imagine edit` / `imagine vary`: ``n`` edits of the image at ``input_path`` written as
    ``out/<slug>-<seed>.png``. ``mask``: a PNG whose transparent pixels (or, without alpha, white pixels) mark
    where to edit; outside it the result keeps the input's pixels. ``variation``: keep the prompt recorded in the
    input's own metadata (or none) at `DEFAULT_VARIATION_STRENGTH`. Inputs are opened with `imagine.images`
    (byte and pixel caps before decoding). With ``provenance`` the guarded path runs (the input through the image
    checks, the prompt through the policy) and the C2PA manifest names the input as its ingredient."""
    from imagine import images
    from imagine.generate.core import Generator  # torch: loaded only when generating
    from imagine.generate.edit import mask_from_image
    from imagine.generate.requests import DEFAULT_VARIATION_STRENGTH
    from imagine.guard.metadata import PARAMETERS_KEY, SourceImage, parse_parameters

    data = images.read_capped(input_path)
    header = images.inspect_image(data)
    if variation:
        raw = header.info.get(PARAMETERS_KEY)
        try:
            prompt = parse_parameters(raw).get("prompt", "") if isinstance(raw, str) else ""
        except ValueError:
            prompt = ""
        strength = DEFAULT_VARIATION_STRENGTH if strength is None else strength
    image = images.decode_image(header)
    mime = {"JPEG": "image/jpeg", "WEBP": "image/webp"}.get(image.format or "", "image/png")
    edit_mask = None
    if mask is not None:
        edit_mask = mask_from_image(images.open_image(mask, mode=None, formats={"PNG"}))
        if edit_mask.size != image.size:
            raise ValueError(f"mask is {edit_mask.width}x{edit_mask.height} but the image is "
                             f"{image.width}x{image.height}; they must match")
    fields = dict(n=n, seed=seed if seed is not None else secrets.randbelow(2**31), steps=steps, guidance=guidance,
                  negative_prompt=negative, sampler=sampler, init_image=image, mask=edit_mask, strength=strength,
                  source=SourceImage(data, mime, Path(input_path).name))
    generator = Generator.load(model if model is not None else settings.model_path, lora=lora)
    name = slug(prompt or f"variation-{Path(input_path).stem}")
    if provenance:
        guarded = GuardedGenerator.from_settings(settings, generator=generator)
        try:
            request = guarded.request(prompt, **fields)
            [paths] = guarded([request], FolderSink(Path(out)))
        except Refused as err:
            raise ValueError(f"{err.param or 'request'}: {err.message}") from err
        return request, paths
    cfg = settings.generate
    fields |= {"steps": cfg.steps if steps is None else steps, "guidance": cfg.guidance if guidance is None else guidance,
               "sampler": cfg.sampler if sampler is None else sampler}
    request = GenerationRequest(prompt=prompt, **fields)
    [result] = generator.generate([request])
    paths = []
    for image_out, image_seed in zip(result.images, result.seeds):
        path = Path(out) / f"{name}-{image_seed}.png"
        save_png(image_out, path)
        paths.append(path)
    return request, paths
