"""The edit inputs of a batch: init images in model space, repaint masks, and the final paste-back.

Why our own rather than diffusers' img2img / inpaint pipelines: edits share `Generator`'s batched loop
(one UNet call per step for generations and edits alike, one seeded ``torch.Generator`` per image,
previews, cancellation). What an edit adds to that loop is small and lives here:

- SDEdit (image-to-image): the input is encoded (pixels in [-1, 1], or VAE latents), noised to the first
  timestep kept by ``strength`` with the image's own seeded noise, and denoised with the prompt;
- blended diffusion (masked edits on a model not trained for inpainting): after every step the area
  outside the mask is replaced by the input noised to the next timestep, as diffusers'
  ``StableDiffusionInpaintPipeline`` does for 4-channel UNets;
- a diffusers inpainting folder (UNet ``in_channels = 2 * latent channels + 1``) gets the mask and the
  masked image's latents concatenated to its input, as it was trained;
- in every case the delivered pixels outside the mask are the input's own (`paste_back` at the input's
  size), so the model's resolution never blurs what the user asked to keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from PIL import Image

from imagine.generate import components

if TYPE_CHECKING:
    from imagine.generate.requests import GenerationRequest

MASK_THRESHOLD = 128  # mask pixels at or above this repaint; below it keep the input


def is_inpainting(pipe: Any) -> bool:
    """A UNet trained for inpainting takes [latents, mask, masked-image latents] (e.g. 4 + 1 + 4 = 9 channels)."""
    config = pipe.unet.config
    return components.is_latent(pipe) and config.in_channels == 2 * config.out_channels + 1


def has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def mask_from_image(image: Image.Image) -> Image.Image:
    """A mask file as the generator's mask ("L", 255 = repaint). With an alpha channel it follows OpenAI's
    convention (fully transparent pixels are edited); without one, white (>= 128) marks the edit."""
    if has_alpha(image):
        return image.convert("RGBA").getchannel("A").point(lambda a: 255 if a == 0 else 0)
    return binary_mask(image.convert("L"))


def binary_mask(mask: Image.Image) -> Image.Image:
    """The mode-"1"-like L mask used for the paste-back: 255 repaint, 0 keep."""
    return mask.point(lambda v: 255 if v >= MASK_THRESHOLD else 0)


def _to_model_pixels(pipe: Any, image: Image.Image) -> torch.Tensor:
    """``[1, 3, H, W]`` in [-1, 1] at the model's output size (Lanczos)."""
    width, height = components.image_size(pipe)
    resized = image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    array = np.asarray(resized, dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0)


def _encode(pipe: Any, pixels: torch.Tensor, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Pixels in [-1, 1] -> the sample space the UNet denoises (the VAE's mean latents for latent models)."""
    if not components.is_latent(pipe):
        return pixels.to(device, dtype)
    vae = pipe.vae
    latents = vae.encode(pixels.to(device, vae.dtype)).latent_dist.mode()
    shift = getattr(vae.config, "shift_factor", None) or 0.0
    return ((latents - shift) * vae.config.scaling_factor).to(dtype)


def _mask_at(mask: Image.Image, height: int, width: int) -> torch.Tensor:
    """``[1, 1, h, w]``, 1 = repaint: a sample cell is repainted when any input pixel in it is (box filter > 0),
    so thin strokes survive the downscale to the model's grid."""
    small = binary_mask(mask).resize((width, height), Image.Resampling.BOX)
    return torch.from_numpy((np.asarray(small, dtype=np.float32) > 0).astype(np.float32))[None, None]


@dataclass
class EditInputs:
    """Per-row edit tensors of one batch (rows without an edit hold zeros / ones and are never used)."""

    x0: torch.Tensor  # [B, C, h, w] the inputs in sample space
    has_init: torch.Tensor  # [B, 1, 1, 1] bool
    repaint: torch.Tensor  # [B, 1, h, w] 1 = denoise freely, 0 = keep the (noised) input
    masked: bool  # any row has a mask: blend after each step
    unet_extra: torch.Tensor | None  # [B, 1 + C, h, w] for inpainting UNets: mask and masked-image latents

    @property
    def any(self) -> bool:
        return bool(self.has_init.any())

    @classmethod
    def build(cls, pipe: Any, rows: list["GenerationRequest"], shape: tuple[int, ...], device: torch.device,
              dtype: torch.dtype) -> "EditInputs":
        """``rows`` holds one request per image of the batch; ``shape`` is the batch's sample shape."""
        batch, _, height, width = shape
        x0 = torch.zeros(shape, device=device, dtype=dtype)
        has_init = torch.zeros((batch, 1, 1, 1), device=device, dtype=torch.bool)
        repaint = torch.ones((batch, 1, height, width), device=device, dtype=dtype)
        inpainting = is_inpainting(pipe)
        px_width, px_height = components.image_size(pipe)
        masked_pixels: list[torch.Tensor] = []  # inpainting UNets only: the input, grey (0) where repainted
        cache: dict[int, tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]] = {}
        for i, request in enumerate(rows):
            if request.init_image is None:
                masked_pixels.append(torch.zeros((1, 3, px_height, px_width)))
                continue
            key = id(request)
            if key not in cache:  # the n images of a request share its encoded input
                pixels = _to_model_pixels(pipe, request.init_image)
                mask = None if request.mask is None else _mask_at(request.mask, height, width)
                cache[key] = (_encode(pipe, pixels, device, dtype), mask, pixels)
            encoded, mask, pixels = cache[key]
            x0[i] = encoded[0]
            has_init[i] = True
            if mask is not None:
                repaint[i] = mask[0].to(device, dtype)
            if inpainting:
                keep = torch.zeros((1, 1, px_height, px_width)) if request.mask is None else \
                    1 - _mask_at(request.mask, px_height, px_width)
                masked_pixels.append(pixels * keep)
        unet_extra = None
        if inpainting:
            # As diffusers' inpaint pipeline: masked-out input (grey where repainted) encoded, mask at latent size.
            masked_latents = torch.cat([_encode(pipe, p, device, dtype) for p in masked_pixels])
            unet_extra = torch.cat([repaint, masked_latents], dim=1)
        masked = any(r.mask is not None for r in rows) and not inpainting
        return cls(x0, has_init, repaint, masked, unet_extra)

    def start(self, scheduler: Any, noise: torch.Tensor, first_t: torch.Tensor) -> torch.Tensor:
        """Initial sample: pure noise for text-to-image rows, the input noised to ``first_t`` for edit rows."""
        pure = noise * scheduler.init_noise_sigma
        if not self.any:
            return pure
        noised = scheduler.add_noise(self.x0, noise, first_t.expand(noise.shape[0]))
        return torch.where(self.has_init, noised, pure)

    def blend(self, scheduler: Any, sample: torch.Tensor, noise: torch.Tensor, next_t: torch.Tensor | None) -> torch.Tensor:
        """Blended diffusion: outside the mask, the input noised to the next timestep (clean after the last)."""
        if not self.masked:
            return sample
        known = self.x0 if next_t is None else scheduler.add_noise(self.x0, noise, next_t.expand(noise.shape[0]))
        keep = self.has_init.to(sample.dtype) * (1 - self.repaint)
        return keep * known + (1 - keep) * sample

    def preview_x0(self, x0: torch.Tensor) -> torch.Tensor:
        """What the user will get: the estimate inside the mask, the input outside."""
        if not self.masked:
            return x0
        keep = self.has_init.to(x0.dtype) * (1 - self.repaint)
        return keep * self.x0 + (1 - keep) * x0


def paste_back(image: Image.Image, request: "GenerationRequest") -> Image.Image:
    """A masked edit at the input's size: the model's pixels (upscaled, Lanczos) inside the mask, the input's outside."""
    if request.init_image is None or request.mask is None:
        return image
    source = request.init_image
    edited = image.resize(source.size, Image.Resampling.LANCZOS) if image.size != source.size else image
    return Image.composite(edited.convert("RGB"), source, binary_mask(request.mask))
