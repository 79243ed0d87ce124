"""The generation core: load a pipeline folder once, then turn batches of requests into images.

    gen = Generator.load()                        # the shipped default model, or Generator.load("path/to/sd")
    [result] = gen.generate([GenerationRequest("a red circle above a blue car", n=4, seed=7)])

Why our own loop rather than ``pipe(...)``: many requests (different prompts, guidance and seeds)
share ONE batched UNet call per step, each image keeps its own ``torch.Generator`` (seed + i) so its
pixels do not depend on what it was batched with, and the loop reports x0 previews and honours
cancellation between steps. It stays the plain diffusers loop (benchmarks/generate.py compares it
with a bare one). Edits (a request with an ``init_image``, optionally a ``mask``) run in the same loop:
they start later in the schedule from their noised input and, when masked, keep the input outside
the mask (`imagine.generate.edit`).
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from imagine.generate import components
from imagine.generate.edit import EditInputs, paste_back
from imagine.generate.requests import GenerationCancelled, GenerationRequest, GenerationResult
from imagine.generate.samplers import build_scheduler

if TYPE_CHECKING:
    import torch
    from PIL import Image

__all__ = ["Generator", "GenerationRequest", "GenerationResult", "GenerationCancelled", "OnStep"]

log = logging.getLogger(__name__)

# on_step(step, total, previews): step counts from 1 over all groups of the call; previews are small
# PIL images of the current x0 estimate for every image of the group being denoised (None when off).
OnStep = Callable[[int, int, "list[Image.Image] | None"], None]


@dataclass
class _Job:
    """One request inside a batched group: where its images sit in the batch."""

    index: int
    request: GenerationRequest
    seeds: list[int]


def load_pipeline(
    model_path: str | Path, *, lora: str | Path | None = None, device: str | None = None, dtype: "torch.dtype | None" = None
) -> Any:
    """Any local diffusers text-to-image folder (our ImaginePipeline included), never a download;
    ``lora`` is a folder of diffusers-format LoRA weights (``imagine finetune``) applied on top."""
    import torch
    from diffusers import DiffusionPipeline

    import imagine.model.pipeline  # noqa: F401  (registers ImaginePipeline with diffusers)

    path = Path(model_path)
    if not (path / "model_index.json").is_file():
        raise FileNotFoundError(f"{path} is not a diffusers pipeline folder (no model_index.json)")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    # float32 unless asked: folders may store float16 weights, which CPUs run slowly or not at all.
    kwargs: dict[str, Any] = {"local_files_only": True, "dtype": dtype or torch.float32}
    pipe = DiffusionPipeline.from_pretrained(str(path), **kwargs)
    components.check_pipeline(pipe)
    if lora is not None:
        if not hasattr(pipe, "load_lora_weights"):
            raise ValueError(f"{type(pipe).__name__} cannot load LoRA weights; use a Stable-Diffusion-shaped model")
        if not Path(lora).is_dir():
            raise FileNotFoundError(f"LoRA folder {lora} does not exist")
        pipe.load_lora_weights(str(lora))
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def model_id_for(path: Path) -> str:
    """The model's id: its card's ``model_id`` (``imagine train`` writes ``card.json``), else the folder name."""
    import json

    from imagine.model.card import CARD_JSON

    card = path / CARD_JSON
    if card.is_file():
        data = json.loads(card.read_text(encoding="utf-8"))
        for key in ("model_id", "id", "name"):
            if isinstance(data.get(key), str):
                return data[key]
    return path.resolve().name


class Generator:
    """A loaded pipeline plus the batched, seeded, cancellable denoising loop. One thread at a time (a lock)."""

    def __init__(self, pipe: Any, model_id: str) -> None:
        components.check_pipeline(pipe)
        self.pipe = pipe
        self.model_id = model_id
        # Re-entrant: the service's worker may run another, short batch from inside `on_step` (pausing this one
        # between two steps); every call keeps its state in its own frame. Other threads wait their turn.
        self._lock = threading.RLock()

    @classmethod
    def load(
        cls,
        model_path: str | Path | None = None,
        *,
        lora: str | Path | None = None,
        device: str | None = None,
        dtype: "torch.dtype | None" = None,
    ) -> "Generator":
        """``model_path`` None means the configured model (``IMAGINE_MODEL``), else the shipped default;
        ``lora`` adds LoRA weights from ``imagine finetune``."""
        if model_path is None:
            from imagine.config import get_settings

            model_path = get_settings().model_path
        path = Path(model_path)
        model_id = model_id_for(path) + (f"+lora:{Path(lora).resolve().name}" if lora is not None else "")
        return cls(load_pipeline(path, lora=lora, device=device, dtype=dtype), model_id)

    @property
    def device(self) -> "torch.device":
        return self.pipe.unet.device

    @property
    def image_size(self) -> tuple[int, int]:
        return components.image_size(self.pipe)

    def generate(
        self,
        requests: list[GenerationRequest],
        *,
        on_step: OnStep | None = None,
        cancelled: Callable[[], bool] | None = None,
        previews: bool = True,
    ) -> list[GenerationResult]:
        """Images for every request, in order. Requests sharing steps, sampler, whether guidance is on and
        (for edits) the first step run as one batch. ``cancelled()`` is polled before each step (raises `GenerationCancelled`);
        ``previews=False`` skips preview images in ``on_step``."""
        import torch

        if not requests:
            return []
        for request in requests:
            if not isinstance(request, GenerationRequest):
                raise TypeError(f"expected GenerationRequest, got {type(request).__name__}")
        jobs = [_Job(i, r, r.seeds()) for i, r in enumerate(requests)]
        groups: dict[tuple[int, str, bool, int], list[_Job]] = {}
        for job in jobs:
            groups.setdefault(job.request.batch_key(), []).append(job)
        total = sum(steps - start for steps, _, _, start in groups)
        results: list[GenerationResult | None] = [None] * len(requests)
        with self._lock, torch.inference_mode():
            done = 0
            for (steps, sampler, guided, start), group in groups.items():
                images, timings = self._run_group(group, steps, sampler, guided, start, done, total, on_step,
                                                  cancelled, previews)
                done += steps - start
                for job in group:
                    results[job.index] = GenerationResult(
                        images=images[: job.request.n], seeds=job.seeds, model_id=self.model_id,
                        timings=dict(timings), request=job.request,
                    )
                    images = images[job.request.n :]
        return [r for r in results if r is not None]

    def _run_group(
        self,
        group: list[_Job],
        steps: int,
        sampler: str,
        guided: bool,
        start_step: int,
        done: int,
        total: int,
        on_step: OnStep | None,
        cancelled: Callable[[], bool] | None,
        previews: bool,
    ) -> tuple[list["Image.Image"], dict[str, float]]:
        import torch

        pipe, device = self.pipe, self.device
        start = time.perf_counter()

        # 1. Encode each distinct prompt once; rows are gathered per image ([uncond; cond] when guided).
        prompts = [j.request.prompt for j in group for _ in j.seeds]
        negatives = [j.request.negative_prompt or "" for j in group for _ in j.seeds]
        texts = sorted(set(prompts) | (set(negatives) if guided else set()))
        # One text per encoder call: batched matmuls round differently by batch size on CPU, and a
        # prompt's states must not depend on which other prompts shared the call.
        encoded = components.TextStates.cat([components.encode_texts(pipe, [text], device) for text in texts])
        row = {text: i for i, text in enumerate(texts)}
        cond = encoded.select(torch.tensor([row[p] for p in prompts], device=device))
        context = cond
        if guided:
            uncond = encoded.select(torch.tensor([row[n] for n in negatives], device=device))
            context = components.TextStates.cat([uncond, cond])
        t_text = time.perf_counter()

        # 2. Initial noise: image i of a request from its own generator seeded seed + i. Edits start at
        #    `start_step` from their input noised with that same noise (SDEdit); text-to-image from the noise.
        generators = [torch.Generator(device="cpu").manual_seed(s) for j in group for s in j.seeds]
        batch = len(generators)
        shape = components.noise_shape(pipe, 1)
        dtype = pipe.unet.dtype
        noise = torch.cat([torch.randn(shape, generator=g, dtype=torch.float32) for g in generators]).to(device, dtype)
        scheduler = build_scheduler(sampler, pipe.scheduler.config)
        scheduler.set_timesteps(steps, device=device)
        rows = [j.request for j in group for _ in j.seeds]
        edits = EditInputs.build(pipe, rows, tuple(noise.shape), device, dtype)
        timesteps = scheduler.timesteps
        if edits.any:
            timesteps = timesteps[start_step * scheduler.order:]
            if hasattr(scheduler, "set_begin_index"):
                scheduler.set_begin_index(start_step * scheduler.order)
        sample = edits.start(scheduler, noise, timesteps[:1])
        guidance = torch.tensor([j.request.guidance for j in group for _ in j.seeds], device=device, dtype=dtype).view(-1, 1, 1, 1)
        step_kwargs = {"generator": generators} if "generator" in inspect.signature(scheduler.step).parameters else {}
        unet_kwargs = {} if context.mask is None else {"encoder_attention_mask": context.mask}
        clip = components.needs_x0_clip(pipe, scheduler)
        if clip:
            from imagine.model.pipeline import clip_noise_prediction

        # 3. Denoise: one UNet call per step for the whole group; masked edits then put back the
        #    (noised) input outside their masks (blended diffusion).
        for i, t in enumerate(timesteps):
            if cancelled is not None and cancelled():
                raise GenerationCancelled(f"cancelled before step {done + i + 1} of {total}")
            model_in = torch.cat([sample, sample]) if guided else sample
            model_in = scheduler.scale_model_input(model_in, t)
            unet_in = model_in
            if edits.unet_extra is not None:  # inpainting UNets see the mask and the masked input
                extra = torch.cat([edits.unet_extra] * 2) if guided else edits.unet_extra
                unet_in = torch.cat([model_in, extra], dim=1)
            eps = pipe.unet(unet_in, t, encoder_hidden_states=context.states, **unet_kwargs).sample
            if guided:
                eps_uncond, eps_cond = eps.chunk(2)
                eps = eps_uncond + guidance * (eps_cond - eps_uncond)
            if clip:
                eps = clip_noise_prediction(scheduler, eps, model_in.chunk(2)[0] if guided else model_in, t)
            shown = None
            if on_step is not None and previews:
                x0 = edits.preview_x0(components.predict_x0(scheduler, sample, eps, t, start_step * scheduler.order + i))
                shown = _to_pil(components.preview_images(pipe, x0))
            sample = scheduler.step(eps, t, sample, **step_kwargs).prev_sample
            sample = edits.blend(scheduler, sample, noise, timesteps[i + 1: i + 2] if i + 1 < len(timesteps) else None)
            if on_step is not None:
                on_step(done + i + 1, total, shown)
        if not torch.isfinite(sample).all():
            raise RuntimeError(
                f"sampler {sampler!r} diverged (non-finite values) at {steps} steps with this model's noise schedule; "
                "try another sampler or step count"
            )
        t_denoise = time.perf_counter()

        # 4. Decode (VAE for latent models) and convert to PIL; masked edits get the input's own pixels
        #    outside the mask, at the input's size.
        images = [paste_back(image, row) for image, row in zip(_to_pil(components.decode(pipe, sample)), rows)]
        end = time.perf_counter()
        timings = {
            "text_encoding": t_text - start,
            "denoising": t_denoise - t_text,
            "postprocessing": end - t_denoise,
            "total": end - start,
            "batch_images": float(batch),
        }
        log.debug("generated %d images (%s, %d steps) in %.2fs", batch, sampler, steps, timings["total"])
        return images, timings


def _to_pil(images: "torch.Tensor") -> list["Image.Image"]:
    """``[B, 3, H, W]`` in [0, 1] -> RGB PIL images (rounded, like diffusers' ``numpy_to_pil``)."""
    from PIL import Image

    arrays = (images.detach().float().cpu().permute(0, 2, 3, 1).numpy() * 255).round().astype("uint8")
    return [Image.fromarray(a, mode="RGB") for a in arrays]
