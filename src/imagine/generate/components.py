"""The few pipeline-specific pieces of generation: text encoding, noise shape, decoding, previews.

Why: `Generator` runs its own batched denoising loop (per-image guidance, per-image seeds, previews,
cancellation), so it needs the pipeline's parts rather than its ``__call__``. Two families exist:
our pixel-space ``ImaginePipeline`` (MiniLM token states + attention mask) and Stable-Diffusion-shaped
latent pipelines (CLIP text model, ``AutoencoderKL``). Anything else is refused with a clear error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

# SD 1.x latent -> RGB linear approximation: a free, recognisable preview without running the VAE.
_SD_LATENT_RGB = torch.tensor(
    [[0.298, 0.207, 0.208], [0.187, 0.286, 0.173], [-0.158, 0.189, 0.264], [-0.184, -0.271, -0.473]]
)


@dataclass
class TextStates:
    """Token states ``[B, L, D]`` and, for encoders that pad with a mask, the mask ``[B, L]``."""

    states: torch.Tensor
    mask: torch.Tensor | None = None

    def select(self, index: torch.Tensor) -> "TextStates":
        return TextStates(self.states[index], None if self.mask is None else self.mask[index])

    @staticmethod
    def cat(parts: list["TextStates"]) -> "TextStates":
        masks = [p.mask for p in parts]
        mask = None if any(m is None for m in masks) else torch.cat(masks)
        return TextStates(torch.cat([p.states for p in parts]), mask)


def check_pipeline(pipe: Any) -> None:
    """Refuse pipelines this generator cannot drive, naming what is missing."""
    missing = [name for name in ("unet", "scheduler", "text_encoder", "tokenizer") if getattr(pipe, name, None) is None]
    if missing:
        raise ValueError(
            f"{type(pipe).__name__} lacks {', '.join(missing)}: imagine generates with UNet text-to-image pipelines "
            "(ImaginePipeline or Stable-Diffusion-shaped folders)"
        )


def is_latent(pipe: Any) -> bool:
    return getattr(pipe, "vae", None) is not None


def encode_texts(pipe: Any, texts: list[str], device: torch.device) -> TextStates:
    """Token states for ``texts`` (one row each); padded to the encoder's fixed length so rows never depend on the batch."""
    if hasattr(pipe.text_encoder, "encode"):  # ImaginePipeline's frozen MiniLM
        states, mask = pipe.text_encoder.encode(texts, pipe.tokenizer)
        return TextStates(states.to(device=device, dtype=pipe.unet.dtype), mask.to(device))
    if hasattr(pipe, "encode_prompt"):  # Stable-Diffusion-shaped: CLIP padded to max length, no mask
        states, _ = pipe.encode_prompt(texts, device, 1, False)
        return TextStates(states.to(dtype=pipe.unet.dtype))
    raise ValueError(f"{type(pipe).__name__} has no way to encode prompts (no text_encoder.encode or encode_prompt)")


def needs_x0_clip(pipe: Any, scheduler: Any) -> bool:
    """Pixel-space epsilon models need x0 kept in [-1, 1] (Imagen-style), as ``ImaginePipeline`` does:
    samplers with ``thresholding`` on do it themselves, the others (Euler) get its ``clip_noise_prediction``.
    Latent models never (latents are not in [-1, 1])."""
    return (
        not is_latent(pipe)
        and scheduler.config.get("prediction_type", "epsilon") == "epsilon"
        and not scheduler.config.get("thresholding", False)
    )


def noise_shape(pipe: Any, batch: int) -> tuple[int, int, int, int]:
    size = pipe.unet.config.sample_size
    height, width = (size, size) if isinstance(size, int) else tuple(size)
    # out_channels: an inpainting UNet takes extra input channels (mask, masked image) but denoises latents only
    return (batch, pipe.unet.config.out_channels, height, width)


def image_size(pipe: Any) -> tuple[int, int]:
    """(width, height) of generated images."""
    _, _, h, w = noise_shape(pipe, 1)
    if is_latent(pipe):
        factor = 2 ** (len(pipe.vae.config.block_out_channels) - 1)
        return (w * factor, h * factor)
    return (w, h)


def decode(pipe: Any, sample: torch.Tensor) -> torch.Tensor:
    """Final sample -> images in [0, 1], ``[B, 3, H, W]`` float32."""
    if is_latent(pipe):
        vae = pipe.vae
        sample = sample / vae.config.scaling_factor
        shift = getattr(vae.config, "shift_factor", None)
        if shift:
            sample = sample + shift
        sample = vae.decode(sample.to(vae.dtype)).sample
    return (sample.float() / 2 + 0.5).clamp(0, 1)


def predict_x0(scheduler: Any, sample: torch.Tensor, model_output: torch.Tensor, t: torch.Tensor, step_index: int) -> torch.Tensor:
    """The model's current estimate of the clean sample, for previews (before ``scheduler.step``)."""
    prediction = scheduler.config.prediction_type
    if scheduler.init_noise_sigma > 1.0 and hasattr(scheduler, "sigmas"):
        # Karras-style samplers (Euler): sample = x0 + sigma * noise.
        sigma = scheduler.sigmas[step_index].to(sample.device)
        if prediction == "epsilon":
            return sample - sigma * model_output
        if prediction == "v_prediction":
            return model_output * (-sigma / (sigma**2 + 1) ** 0.5) + sample / (sigma**2 + 1)
        return model_output
    alpha = scheduler.alphas_cumprod.to(sample.device)[int(t)]
    a, s = alpha.sqrt(), (1 - alpha).sqrt()
    if prediction == "epsilon":
        return (sample - s * model_output) / a
    if prediction == "v_prediction":
        return a * sample - s * model_output
    return model_output


def preview_images(pipe: Any, x0: torch.Tensor) -> torch.Tensor:
    """Cheap ``[B, 3, h, w]`` images in [0, 1] of an x0 estimate: exact in pixel space, linear in latent space."""
    if not is_latent(pipe):
        return (x0.float() / 2 + 0.5).clamp(0, 1)
    if x0.shape[1] == _SD_LATENT_RGB.shape[0]:
        rgb = torch.einsum("bchw,cr->brhw", x0.float(), _SD_LATENT_RGB.to(x0.device))
        return (rgb / 2 + 0.5).clamp(0, 1)
    grey = x0.float().mean(dim=1, keepdim=True)
    lo, hi = grey.amin(dim=(2, 3), keepdim=True), grey.amax(dim=(2, 3), keepdim=True)
    return ((grey - lo) / (hi - lo + 1e-6)).expand(-1, 3, -1, -1)
