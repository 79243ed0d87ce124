"""LoRA fine-tuning of any Stable-Diffusion-shaped diffusers folder on our consented Lance dataset.

Why LoRA: a user's own pretrained checkpoint (gigabytes, trained elsewhere) can be adapted to our
platform's photos the way Emu's quality-tuning adapts a base model to a few thousand selected images,
while training and shipping only a few MB of low-rank UNet attention weights. The result is saved in
the diffusers LoRA format, so ``pipe.load_lora_weights(out)`` (and ``imagine generate --lora out``) uses it.

    imagine finetune --model ~/models/sd15 --dataset var/datasets/demo --out var/models/sd15-demo-lora

Follows diffusers' ``examples/text_to_image/train_text_to_image_lora.py``: frozen VAE and text encoder,
``unet.add_adapter(LoraConfig(...))``, epsilon/v-prediction MSE on noised VAE latents.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from imagine.atomic import atomic_write

log = logging.getLogger(__name__)

LORA_WEIGHTS = "pytorch_lora_weights.safetensors"
LORA_CARD = "lora_card.json"
TARGET_MODULES = ("to_q", "to_k", "to_v", "to_out.0")


@dataclass
class LoraReport:
    """What a fine-tuning run did; also written as ``lora_card.json`` next to the weights."""

    weights_path: str
    base_model: str
    dataset_uri: str
    dataset_version: int
    dataset_digest: str
    steps: int
    batch_size: int
    rank: int
    learning_rate: float
    seed: int
    seconds: float
    first_loss: float
    last_loss: float
    eval_loss_before: float
    eval_loss_after: float
    losses: list[float] = field(default_factory=list)


def _check_sd_shaped(pipe: Any, model: Path) -> None:
    missing = [n for n in ("unet", "vae", "text_encoder", "tokenizer", "scheduler") if getattr(pipe, n, None) is None]
    if missing or not hasattr(type(pipe), "save_lora_weights"):
        what = f"lacks {', '.join(missing)}" if missing else "has no diffusers LoRA loader"
        raise ValueError(
            f"{model} ({type(pipe).__name__}) {what}: LoRA fine-tuning needs a Stable-Diffusion-shaped pipeline "
            "(UNet, VAE, text encoder, tokenizer); fine-tune an ImaginePipeline with `imagine train` instead"
        )


class _Batches:
    """Deterministic batches from the Lance stream, turned into (latents, text states) for the frozen parts."""

    def __init__(self, pipe: Any, stream: Any, batch_size: int, device: Any, seed: int) -> None:
        import torch

        self.pipe, self.stream, self.batch_size, self.device = pipe, stream, batch_size, device
        self.generator = torch.Generator(device="cpu").manual_seed(seed)

    def encode(self, micro_batch: int) -> tuple[Any, Any]:
        import torch

        from imagine.model.data import to_model_range

        pipe = self.pipe
        idx = self.stream.indices(micro_batch, self.batch_size, 0, self.batch_size)
        images, _ = self.stream.fetch(idx)
        captions = [self.stream.captions[int(i)] for i in idx]
        with torch.no_grad():
            pixels = to_model_range(images).to(self.device, pipe.vae.dtype)
            dist = pipe.vae.encode(pixels).latent_dist
            noise = torch.randn(dist.mean.shape, generator=self.generator).to(self.device, dist.mean.dtype)
            latents = (dist.mean + dist.std * noise) * pipe.vae.config.scaling_factor
            tokens = pipe.tokenizer(captions, padding="max_length", max_length=pipe.tokenizer.model_max_length,
                                    truncation=True, return_tensors="pt")
            states = pipe.text_encoder(tokens.input_ids.to(self.device))[0]
        return latents, states


def _diffusion_loss(unet: Any, noise_scheduler: Any, latents: Any, states: Any, generator: Any) -> Any:
    """MSE between the UNet's prediction and its target at random timesteps (fresh noise from ``generator``)."""
    import torch
    import torch.nn.functional as F

    noise = torch.randn(latents.shape, generator=generator).to(latents.device, latents.dtype)
    t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (latents.shape[0],), generator=generator).to(latents.device)
    noisy = noise_scheduler.add_noise(latents, noise, t)
    prediction_type = noise_scheduler.config.prediction_type
    if prediction_type == "epsilon":
        target = noise
    elif prediction_type == "v_prediction":
        target = noise_scheduler.get_velocity(latents, noise, t)
    else:
        raise ValueError(f"unsupported prediction type {prediction_type!r} for LoRA fine-tuning")
    pred = unet(noisy, t, encoder_hidden_states=states).sample
    return F.mse_loss(pred.float(), target.float())


def finetune_lora(
    model: str | Path,
    dataset: str | Path,
    out: str | Path,
    *,
    version: int | None = None,
    steps: int = 500,
    batch_size: int = 8,
    rank: int = 8,
    learning_rate: float = 1e-4,
    seed: int = 0,
    device: str | None = None,
    progress: bool = True,
) -> LoraReport:
    """Train LoRA adapters on the UNet attention of ``model`` over ``dataset`` (``images.lance``) and save them to ``out``."""
    import torch
    from diffusers import DDPMScheduler, DiffusionPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    from imagine.generate.components import image_size
    from imagine.model.data import LanceImageStream
    from imagine.progress import progress_bar

    if steps < 1 or batch_size < 1 or rank < 1 or learning_rate <= 0:
        raise ValueError("steps, batch_size and rank must be >= 1 and learning_rate > 0")
    model, out = Path(model), Path(out)
    if not (model / "model_index.json").is_file():
        raise FileNotFoundError(f"{model} is not a diffusers pipeline folder (no model_index.json)")
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    pipe = DiffusionPipeline.from_pretrained(str(model), local_files_only=True)
    _check_sd_shaped(pipe, model)
    pipe.to(device)
    for part in (pipe.vae, pipe.text_encoder, pipe.unet):
        part.requires_grad_(False)
    pipe.vae.eval()
    pipe.text_encoder.eval()

    # 1. Adapters on the UNet's attention projections; only they train (kept in float32).
    torch.manual_seed(seed)
    unet = pipe.unet
    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights="gaussian", target_modules=list(TARGET_MODULES)))
    params = [p for p in unet.parameters() if p.requires_grad]
    for p in params:
        p.data = p.data.float()
    optimizer = torch.optim.AdamW(params, lr=learning_rate)
    noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config)

    # 2. Data: the model's own resolution, a fixed order seeded by `seed` (same as `imagine train`).
    resolution = image_size(pipe)[0]
    stream = LanceImageStream(dataset, version, resolution=resolution, seed=seed)
    if len(stream) < batch_size:
        raise ValueError(f"dataset has {len(stream)} rows, fewer than one batch of {batch_size}")
    batches = _Batches(pipe, stream, batch_size, device, seed)

    # A fixed evaluation batch with fixed noise: its loss before vs after says whether training helped.
    eval_latents, eval_states = batches.encode(0)

    def eval_loss() -> float:
        unet.eval()
        with torch.no_grad():
            value = _diffusion_loss(unet, noise_scheduler, eval_latents, eval_states, torch.Generator().manual_seed(seed + 1))
        unet.train()
        return float(value)

    before = eval_loss()
    losses: list[float] = []
    start = time.perf_counter()
    gen = torch.Generator(device="cpu").manual_seed(seed + 2)
    unet.train()
    # 3. Train.
    with progress_bar(disable=not progress) as bar:
        task = bar.add_task("LoRA fine-tune", total=steps)
        for step in range(steps):
            latents, states = batches.encode(step)
            loss = _diffusion_loss(unet, noise_scheduler, latents, states, gen)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            bar.update(task, advance=1, description=f"LoRA fine-tune loss {losses[-1]:.4f}")
    seconds = time.perf_counter() - start
    after = eval_loss()

    # 4. Save in the diffusers LoRA format, plus a card saying what it saw.
    out.mkdir(parents=True, exist_ok=True)
    lora_layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    type(pipe).save_lora_weights(save_directory=str(out), unet_lora_layers=lora_layers, safe_serialization=True)
    report = LoraReport(
        weights_path=str(out / LORA_WEIGHTS), base_model=str(model.resolve()), dataset_uri=stream.uri,
        dataset_version=stream.version, dataset_digest=stream.digest(), steps=steps, batch_size=batch_size,
        rank=rank, learning_rate=learning_rate, seed=seed, seconds=seconds,
        first_loss=losses[0], last_loss=losses[-1], eval_loss_before=before, eval_loss_after=after, losses=losses,
    )
    atomic_write(out / LORA_CARD, json.dumps(asdict(report), indent=2))
    log.info("LoRA saved to %s: eval loss %.4f -> %.4f in %.1fs", out, before, after, seconds)
    return report
