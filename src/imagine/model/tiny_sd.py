"""A randomly initialised Stable-Diffusion-shaped pipeline (tiny, or SD 1.5's size), built with nothing downloaded.

Why: ``--model PATH`` must work with *any* local diffusers text-to-image folder, and LoRA fine-tuning must
be tested on a real SD-shaped checkpoint (UNet + VAE + CLIP text model + CLIP tokenizer). A real one is
gigabytes and would need the network, so tests build this one (a few MB) in seconds instead:

    python -c "from imagine.model.tiny_sd import save_tiny_sd; save_tiny_sd('/tmp/tiny-sd')"

The tokenizer is a genuine CLIP BPE tokenizer over a byte-level vocabulary we write ourselves
(every byte, alone and as a word end ``</w>``, plus merges for the demo vocabulary's words).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from diffusers import StableDiffusionPipeline

# Words that get whole-word tokens, so prompts do not become one token per letter.
_WORDS = (
    "a an the of and on in with photo picture two three four left right above below "
    "circle square triangle star heart house tree car red orange yellow green blue purple pink white black brown "
    "sky night grass beach snow desert"
).split()


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2 / CLIP's reversible byte -> printable-unicode table (the BPE alphabet)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def _vocab_and_merges() -> tuple[dict[str, int], list[str]]:
    """A byte-level vocab plus left-to-right merges building each word of ``_WORDS`` (with ``</w>``)."""
    alphabet = list(_bytes_to_unicode().values())
    tokens = ["<|startoftext|>", "<|endoftext|>"] + alphabet + [c + "</w>" for c in alphabet]
    merges: list[str] = []
    seen = set(tokens)
    for word in _WORDS:
        pieces = list(word[:-1]) + [word[-1] + "</w>"]
        while len(pieces) > 1:
            left, right = pieces[0], pieces[1]
            merged = left + right
            if merged not in seen:
                merges.append(f"{left} {right}")
                tokens.append(merged)
                seen.add(merged)
            pieces = [merged] + pieces[2:]
    return {tok: i for i, tok in enumerate(tokens)}, merges


# Component shapes: "tiny" (a few MB, for tests) and "sd15" (Stable Diffusion 1.5's sizes: an 860M-parameter
# UNet, the 84M VAE, a 123M CLIP ViT-L text encoder; random weights, for timing the serving path on a GPU).
SHAPES = {
    "tiny": {
        "vae": dict(block_out_channels=(16, 32), layers_per_block=1, norm_num_groups=8),
        "unet": dict(block_out_channels=(32, 64), layers_per_block=1, cross_attention_dim=32, attention_head_dim=8,
                     norm_num_groups=8, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                     up_block_types=("CrossAttnUpBlock2D", "UpBlock2D")),
        "text": dict(hidden_size=32, intermediate_size=64, num_attention_heads=4, num_hidden_layers=2),
        "vocab_size": None,  # our vocabulary's own size
    },
    "sd15": {
        "vae": dict(block_out_channels=(128, 256, 512, 512), layers_per_block=2, norm_num_groups=32),
        "unet": dict(block_out_channels=(320, 640, 1280, 1280), layers_per_block=2, cross_attention_dim=768,
                     attention_head_dim=8, norm_num_groups=32,
                     down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
                     up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D")),
        "text": dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12),
        "vocab_size": 49408,  # CLIP's, so the embedding has SD 1.5's size (our tokenizer uses the first ids)
    },
}


def tiny_sd_pipeline(resolution: int = 32, seed: int = 0, *, inpainting: bool = False,
                     shape: str = "tiny") -> "StableDiffusionPipeline":
    """A random SD-shaped pipeline producing ``resolution``² images (latents 1/2 of that, 1/8 for ``sd15``).

    ``inpainting``: a ``StableDiffusionInpaintPipeline`` instead, whose UNet takes 4 + 1 + 4 channels
    (latents, mask, masked-image latents), the layout of diffusers' inpainting checkpoints.
    ``shape``: ``"tiny"`` or ``"sd15"`` (see ``SHAPES``). Built on the current default torch device:
    ``with torch.device("cuda"):`` initialises an sd15-sized one on the GPU in seconds.
    """
    import tempfile

    import torch
    from diffusers import (AutoencoderKL, DDIMScheduler, StableDiffusionInpaintPipeline, StableDiffusionPipeline,
                           UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")
    spec = SHAPES[shape]
    levels = len(spec["vae"]["block_out_channels"])
    factor = 2 ** (levels - 1)  # image side / latent side
    multiple = 8 if shape == "tiny" else 8 * factor
    if resolution % multiple:
        raise ValueError(f"resolution must be a multiple of {multiple} for the {shape} shape, got {resolution}")
    torch.manual_seed(seed)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * levels,
        up_block_types=("UpDecoderBlock2D",) * levels,
        latent_channels=4,
        sample_size=resolution,
        **spec["vae"],
    )
    unet = UNet2DConditionModel(sample_size=resolution // factor, in_channels=9 if inpainting else 4, out_channels=4,
                                **spec["unet"])
    vocab, merges = _vocab_and_merges()
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=spec["vocab_size"] or len(vocab),
            max_position_embeddings=77,
            bos_token_id=vocab["<|startoftext|>"],
            eos_token_id=vocab["<|endoftext|>"],
            pad_token_id=vocab["<|endoftext|>"],
            **spec["text"],
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
        (Path(tmp) / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
        tokenizer = CLIPTokenizer(vocab=str(Path(tmp) / "vocab.json"), merges=str(Path(tmp) / "merges.txt"), model_max_length=77)
    scheduler = DDIMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False, set_alpha_to_one=False,
        steps_offset=1,
    )
    pipeline_class = StableDiffusionInpaintPipeline if inpainting else StableDiffusionPipeline
    return pipeline_class(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def save_tiny_sd(out: str | Path, resolution: int = 32, seed: int = 0, *, inpainting: bool = False) -> Path:
    """Build the tiny pipeline and ``save_pretrained`` it to ``out`` (safetensors); returns the folder."""
    out = Path(out)
    tiny_sd_pipeline(resolution=resolution, seed=seed, inpainting=inpainting).save_pretrained(out, safe_serialization=True)
    return out
