"""Building pipelines: from a training config (``build_pipeline``) or tiny and random for tests.

    pipe = tiny_pipeline(resolution=32, seed=0)   # random weights, a second to build
    images = pipe("a red circle", generator=torch.Generator().manual_seed(0)).images
"""

from __future__ import annotations

import torch

from imagine.model.train_config import ModelConfig, TrainConfig, load_config


def build_denoiser(model: ModelConfig):
    """The denoiser ``model.architecture`` names (see ``DENOISERS``); all share the UNet's call signature."""
    try:
        build = DENOISERS[model.architecture]
    except KeyError:
        raise ValueError(f"unknown architecture {model.architecture!r}; known: {', '.join(DENOISERS)}") from None
    return build(model)


def _unet(model: ModelConfig):
    """A ``UNet2DConditionModel`` for 3-channel pixels, cross-attending to 384-wide MiniLM states."""
    from diffusers import UNet2DConditionModel

    from imagine.model.text_encoder import HIDDEN_SIZE

    levels = tuple(model.cross_attention_levels)
    if len(levels) != len(model.block_out_channels):
        raise ValueError("cross_attention_levels needs one entry per block_out_channels entry")
    down = tuple("CrossAttnDownBlock2D" if a else "DownBlock2D" for a in levels)
    up = tuple("CrossAttnUpBlock2D" if a else "UpBlock2D" for a in reversed(levels))
    return UNet2DConditionModel(
        sample_size=model.resolution,
        in_channels=3,
        out_channels=3,
        down_block_types=down,
        up_block_types=up,
        block_out_channels=tuple(model.block_out_channels),
        layers_per_block=model.layers_per_block,
        cross_attention_dim=HIDDEN_SIZE,
        attention_head_dim=model.attention_head_dim,
        norm_num_groups=min(model.norm_num_groups, min(model.block_out_channels)),
    )


def _mmdit(model: ModelConfig):
    """An MMDiT (SD3's joint-attention transformer) over ``patch_size``² pixel patches and MiniLM tokens."""
    from imagine.model.mmdit import ImagineMMDiT
    from imagine.model.text_encoder import HIDDEN_SIZE

    return ImagineMMDiT(
        sample_size=model.resolution,
        patch_size=model.patch_size,
        num_layers=model.transformer_layers,
        num_attention_heads=model.transformer_heads,
        attention_head_dim=model.attention_head_dim,
        cross_attention_dim=HIDDEN_SIZE,
    )


DENOISERS = {"unet": _unet, "mmdit": _mmdit}


def training_scheduler(model: ModelConfig):
    """The forward-noising schedule used in training (DDPM)."""
    from diffusers import DDPMScheduler

    return DDPMScheduler(
        num_train_timesteps=model.num_train_timesteps,
        beta_schedule=model.beta_schedule,
        prediction_type=model.prediction_type,
        clip_sample=False,
    )


def sampling_scheduler(model: ModelConfig):
    """DPM-Solver++ (multistep, 2nd order) with the training schedule: good images in ~20 steps.

    ``thresholding`` keeps the x0 estimate inside the pixel range [-1, 1]: without it, epsilon
    predictions at the noisiest steps (alpha_bar ~ 1e-9 at t=999 on the cosine schedule) are
    amplified into saturated noise. Samplers built ``from_config`` (UniPC, DDIM) inherit it.
    """
    from diffusers import DPMSolverMultistepScheduler

    return DPMSolverMultistepScheduler.from_config(
        training_scheduler(model).config, algorithm_type="dpmsolver++", thresholding=True, sample_max_value=1.0
    )


def assemble_pipeline(unet, model: ModelConfig, text_encoder=None):
    """An :class:`ImaginePipeline` around ``unet``; the frozen encoder is shared when given."""
    from imagine.model.pipeline import ImaginePipeline
    from imagine.model.text_encoder import MiniLMTextEncoder

    encoder = text_encoder if text_encoder is not None else MiniLMTextEncoder(max_length=model.max_text_length)
    return ImaginePipeline(
        unet=unet,
        scheduler=sampling_scheduler(model),
        text_encoder=encoder,
        tokenizer=encoder.tokenizer,
    )


def build_pipeline(config: TrainConfig | str | None = None, *, seed: int | None = None):
    """A freshly initialised pipeline for ``config`` (a :class:`TrainConfig`, a shipped name or a path)."""
    cfg = load_config(config)
    torch.manual_seed(cfg.train.seed if seed is None else seed)
    return assemble_pipeline(build_denoiser(cfg.model), cfg.model)


TINY_MODEL = ModelConfig(
    resolution=32,
    block_out_channels=(32, 64),
    layers_per_block=1,
    cross_attention_levels=(False, True),
    attention_head_dim=16,
    max_text_length=16,
)


def tiny_pipeline(resolution: int = 32, seed: int = 0):
    """Random weights, a few hundred thousand parameters: for tests, never for images."""
    from dataclasses import replace

    torch.manual_seed(seed)
    model = replace(TINY_MODEL, resolution=resolution)
    return assemble_pipeline(build_denoiser(model), model)
