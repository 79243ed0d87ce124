"""ImagineMMDiT: a small MMDiT (text tokens joined to image patches) behind the UNet's call signature.

Why a wrapper and not our own transformer: diffusers' ``SD3Transformer2DModel`` already is the MMDiT
of Stable Diffusion 3 (joint attention over ``[text tokens; image patches]``, adaLN timestep
conditioning); what it lacks for this project is the interface the rest of the code speaks. The
pipeline and the ``Generator`` call the denoiser as ``unet(sample, t, encoder_hidden_states=...,
encoder_attention_mask=...).sample`` and read ``config.sample_size`` / ``config.in_channels``; this
class adds exactly that:

- MiniLM token states (384 wide) are the text tokens; padding positions are zeroed with the mask
  (SD3's joint attention takes no mask) and their masked mean is SD3's pooled text vector;
- a scalar timestep is broadcast over the batch.

Saved and loaded like any diffusers model (``save_pretrained`` / ``from_pretrained``); the pipeline's
``model_index.json`` names this module, so importing ``imagine.model.pipeline`` makes
``DiffusionPipeline.from_pretrained`` find it.
"""

from __future__ import annotations

import torch
from diffusers import ConfigMixin, ModelMixin, SD3Transformer2DModel
from diffusers.configuration_utils import register_to_config
from diffusers.models.unets.unet_2d_condition import UNet2DConditionOutput


class ImagineMMDiT(ModelMixin, ConfigMixin):
    """``SD3Transformer2DModel`` over pixels (``in_channels`` = 3), conditioned on 384-wide token states."""

    @register_to_config
    def __init__(
        self,
        sample_size: int = 32,
        in_channels: int = 3,
        out_channels: int = 3,
        patch_size: int = 2,
        num_layers: int = 6,
        num_attention_heads: int = 4,
        attention_head_dim: int = 32,
        cross_attention_dim: int = 384,
    ) -> None:
        super().__init__()
        if sample_size % patch_size:
            raise ValueError(f"sample_size {sample_size} is not a multiple of patch_size {patch_size}")
        self.transformer = SD3Transformer2DModel(
            sample_size=sample_size,
            patch_size=patch_size,
            in_channels=in_channels,
            out_channels=out_channels,
            num_layers=num_layers,
            attention_head_dim=attention_head_dim,
            num_attention_heads=num_attention_heads,
            joint_attention_dim=cross_attention_dim,
            caption_projection_dim=num_attention_heads * attention_head_dim,
            pooled_projection_dim=cross_attention_dim,
            pos_embed_max_size=sample_size // patch_size,
        )

    def forward(
        self,
        sample: torch.Tensor,  # [B, C, H, W]
        timestep: torch.Tensor | float | int,  # scalar or [B]
        encoder_hidden_states: torch.Tensor,  # [B, L, 384]
        encoder_attention_mask: torch.Tensor | None = None,  # [B, L], 1 = real token
        return_dict: bool = True,
    ) -> UNet2DConditionOutput | tuple:
        states = encoder_hidden_states
        if encoder_attention_mask is not None:
            keep = encoder_attention_mask.to(states.dtype).unsqueeze(-1)  # [B, L, 1]
            states = states * keep
            pooled = states.sum(dim=1) / keep.sum(dim=1).clamp(min=1)
        else:
            pooled = states.mean(dim=1)
        t = torch.as_tensor(timestep, device=sample.device)
        if t.ndim == 0:
            t = t.expand(sample.shape[0])
        out = self.transformer(sample, encoder_hidden_states=states, pooled_projections=pooled, timestep=t).sample
        return UNet2DConditionOutput(sample=out) if return_dict else (out,)
