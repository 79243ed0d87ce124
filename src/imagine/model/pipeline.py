"""ImaginePipeline: pixel-space text-to-image diffusion conditioned on MiniLM token states.

Components: ``unet`` (the denoiser: ``UNet2DConditionModel`` with ``cross_attention_dim=384``, or
:class:`imagine.model.mmdit.ImagineMMDiT` behind the same call signature), ``scheduler``
(any diffusers scheduler; DPM-Solver++ by default), ``text_encoder`` (frozen
:class:`MiniLMTextEncoder`, saved as a config only) and ``tokenizer`` (MiniLM WordPiece).

Loading: importing this module registers the class with diffusers, so after
``import imagine.model.pipeline`` the plain ``DiffusionPipeline.from_pretrained(folder)``
returns an ``ImaginePipeline`` (diffusers looks pipeline classes up by the name in
``model_index.json``, and the text encoder component by its module path, which must be
imported). ``ImaginePipeline.from_pretrained(folder)`` works without that step.
"""

from __future__ import annotations

from typing import Any, Callable

import diffusers
import numpy as np
import torch
from diffusers import DiffusionPipeline, ImagePipelineOutput, SchedulerMixin, UNet2DConditionModel
from diffusers.utils.torch_utils import randn_tensor

from imagine.model.mmdit import ImagineMMDiT
from imagine.model.text_encoder import MiniLMTextEncoder

OUTPUT_TYPES = ("pil", "np", "pt")


def clip_noise_prediction(scheduler, noise: torch.Tensor, model_in: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Epsilon whose implied x0 lies in [-1, 1], for samplers without ``thresholding`` (e.g. Euler).

    ``model_in`` is the variance-preserving input the UNet saw (after ``scale_model_input``);
    alpha_bar is interpolated at (possibly fractional) ``t`` from the scheduler's schedule.
    """
    bars = scheduler.alphas_cumprod.to(torch.float64)
    pos = float(t)
    lo = min(int(pos), len(bars) - 1)
    hi = min(lo + 1, len(bars) - 1)
    ab = (bars[lo] + (pos - lo) * (bars[hi] - bars[lo])).to(noise.dtype)
    x0 = ((model_in - (1 - ab).sqrt() * noise) / ab.sqrt()).clamp(-1, 1)
    return (model_in - ab.sqrt() * x0) / (1 - ab).sqrt()


class ImaginePipeline(DiffusionPipeline):
    """Text-to-image in pixel space; ``__call__`` follows diffusers' text-to-image conventions."""

    model_cpu_offload_seq = "text_encoder->unet"
    _callback_tensor_inputs = ["latents"]

    def __init__(
        self,
        unet: UNet2DConditionModel | ImagineMMDiT,
        scheduler: SchedulerMixin,
        text_encoder: MiniLMTextEncoder,
        tokenizer: Any,
    ) -> None:
        super().__init__()
        self.register_modules(unet=unet, scheduler=scheduler, text_encoder=text_encoder, tokenizer=tokenizer)

    @torch.no_grad()
    def encode_prompt(
        self,
        prompt: list[str],
        negative_prompt: list[str] | None,
        num_images_per_prompt: int,
        do_cfg: bool,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Token states and masks, repeated per image; ``[uncond; cond]`` stacked when guiding."""
        device = self._execution_device
        states, mask = self.text_encoder.encode(prompt, self.tokenizer)
        if do_cfg:
            if negative_prompt is None:
                neg_states, neg_mask = self.text_encoder.encode([""] * len(prompt), self.tokenizer)
            else:
                neg_states, neg_mask = self.text_encoder.encode(negative_prompt, self.tokenizer)
            states = torch.cat([neg_states, states])
            mask = torch.cat([neg_mask, mask])
        states = states.repeat_interleave(num_images_per_prompt, dim=0).to(device=device, dtype=self.unet.dtype)
        mask = mask.repeat_interleave(num_images_per_prompt, dim=0).to(device)
        return states, mask

    @torch.no_grad()
    def __call__(
        self,
        prompt: str | list[str],
        negative_prompt: str | list[str] | None = None,
        num_images_per_prompt: int = 1,
        num_inference_steps: int = 20,
        guidance_scale: float = 4.0,
        generator: torch.Generator | list[torch.Generator] | None = None,
        output_type: str = "pil",
        callback_on_step_end: Callable[..., dict] | None = None,
        callback_on_step_end_tensor_inputs: list[str] = ("latents",),
        latents: torch.Tensor | None = None,
        return_dict: bool = True,
    ) -> ImagePipelineOutput | tuple:
        """Generate ``len(prompt) * num_images_per_prompt`` images.

        ``generator`` may be a list with one ``torch.Generator`` per image, so each image's
        noise depends only on its own seed, not on how images were batched.
        ``callback_on_step_end(pipe, step, timestep, {"latents": ...})`` may return a dict
        replacing ``latents``.
        """
        # 0. Check inputs: clear errors instead of silent fixes.
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        if not prompts:
            raise ValueError("prompt is empty: give at least one prompt")
        if negative_prompt is not None:
            negative_prompt = [negative_prompt] * len(prompts) if isinstance(negative_prompt, str) else list(negative_prompt)
            if len(negative_prompt) != len(prompts):
                raise ValueError(f"{len(negative_prompt)} negative prompts for {len(prompts)} prompts")
        if num_images_per_prompt < 1 or num_inference_steps < 1:
            raise ValueError("num_images_per_prompt and num_inference_steps must be >= 1")
        if output_type not in OUTPUT_TYPES:
            raise ValueError(f"output_type {output_type!r} is not one of {OUTPUT_TYPES}")
        batch = len(prompts) * num_images_per_prompt
        if isinstance(generator, list) and len(generator) != batch:
            raise ValueError(f"{len(generator)} generators for {batch} images: give one per image")
        bad = set(callback_on_step_end_tensor_inputs) - set(self._callback_tensor_inputs)
        if bad:
            raise ValueError(f"callback tensor inputs {sorted(bad)} not in {self._callback_tensor_inputs}")
        do_cfg = guidance_scale > 1.0
        device = self._execution_device
        # Pixel-space epsilon models need x0 kept in range; schedulers with thresholding do it themselves.
        clip = not self.scheduler.config.get("thresholding", False)

        # 1. Encode the prompts (and the negative / empty prompt for guidance).
        states, mask = self.encode_prompt(prompts, negative_prompt, num_images_per_prompt, do_cfg)

        # 2. Initial noise, one generator per image when a list is given.
        size = self.unet.config.sample_size
        shape = (batch, self.unet.config.in_channels, size, size)
        if latents is None:
            latents = randn_tensor(shape, generator=generator, device=device, dtype=self.unet.dtype)
        elif tuple(latents.shape) != shape:
            raise ValueError(f"latents have shape {tuple(latents.shape)}, expected {shape}")
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        latents = latents * self.scheduler.init_noise_sigma

        # 3. Denoising loop.
        for i, t in enumerate(self.progress_bar(self.scheduler.timesteps)):
            model_in = torch.cat([latents] * 2) if do_cfg else latents
            model_in = self.scheduler.scale_model_input(model_in, t)
            noise = self.unet(model_in, t, encoder_hidden_states=states, encoder_attention_mask=mask).sample
            if do_cfg:
                uncond, cond = noise.chunk(2)
                noise = uncond + guidance_scale * (cond - uncond)
            if clip and self.scheduler.config.get("prediction_type", "epsilon") == "epsilon":
                noise = clip_noise_prediction(self.scheduler, noise, model_in.chunk(2)[0] if do_cfg else model_in, t)
            latents = self.scheduler.step(noise, t, latents).prev_sample
            if callback_on_step_end is not None:
                inputs = {"latents": latents} if "latents" in callback_on_step_end_tensor_inputs else {}
                out = callback_on_step_end(self, i, t, inputs) or {}
                latents = out.get("latents", latents)

        # 4. Post-process: [-1, 1] pixels -> [0, 1] -> requested format.
        image = (latents.float() / 2 + 0.5).clamp(0, 1)
        if output_type != "pt":
            image = image.cpu().permute(0, 2, 3, 1).numpy().astype(np.float32)
            if output_type == "pil":
                image = self.numpy_to_pil(image)
        self.maybe_free_model_hooks()
        if not return_dict:
            return (image,)
        return ImagePipelineOutput(images=image)


# diffusers resolves `DiffusionPipeline.from_pretrained(folder)` by looking the `_class_name`
# of model_index.json up on the `diffusers` module; registering makes that plain call work.
setattr(diffusers, ImaginePipeline.__name__, ImaginePipeline)
