"""CLI commands of the generate stage; `register(app)` adds them to the root `imagine` app.

``imagine generate`` and ``imagine finetune`` are shims over `to_files.generate_to_dir` and
`imagine.model.lora.finetune_lora`, with the same parameters and defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def generate(
    prompts: Annotated[list[str], typer.Argument(help="One or more prompts; all run in one batched call.")],
    n: Annotated[int, typer.Option("-n", "--n", help="Images per prompt.")] = 4,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Base seed; image i uses seed + i (random when omitted).")] = None,
    steps: Annotated[Optional[int], typer.Option("--steps", help="Sampler steps (default: settings generate.steps).")] = None,
    guidance: Annotated[Optional[float], typer.Option("--guidance", help="Classifier-free guidance scale (1 = off).")] = None,
    negative: Annotated[Optional[str], typer.Option("--negative", help="Negative prompt.")] = None,
    sampler: Annotated[Optional[str], typer.Option("--sampler", help="dpmpp, unipc, euler, euler_a or ddim.")] = None,
    model: Annotated[Optional[Path], typer.Option("--model", help="Any local diffusers text-to-image folder (default: shipped model).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the PNGs.")] = Path("generated"),
    lora: Annotated[Optional[Path], typer.Option("--lora", help="LoRA weights folder from `imagine finetune`.")] = None,
    provenance: Annotated[bool, typer.Option("--provenance/--raw", help="Take the service's guarded path (prompt policy, output checks, watermark, label, metadata, C2PA) or write the raw output.")] = False,
) -> None:
    """Generate PNGs from text prompts; same seed and settings give identical images."""
    from imagine.config import get_settings
    from imagine.generate.to_files import generate_to_dir

    try:
        written = generate_to_dir(prompts, out, settings=get_settings(), n=n, seed=seed, steps=steps,
                                  guidance=guidance, negative=negative, sampler=sampler, model=model, lora=lora,
                                  provenance=provenance)
    except (ValueError, FileNotFoundError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    for request, paths in written:
        withheld = request.n - len(paths)
        note = f" ({withheld} withheld by the output checks)" if withheld else ""
        typer.echo(f"{request.prompt!r}: {len(paths)} image(s){note}")
        for path in paths:
            typer.echo(f"  {path}")


def finetune(
    model: Annotated[Path, typer.Option("--model", help="A Stable-Diffusion-shaped diffusers folder to adapt.")],
    dataset: Annotated[Path, typer.Option("--dataset", help="A dataset folder holding images.lance (or the images.lance path).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the LoRA weights (pytorch_lora_weights.safetensors).")],
    steps: Annotated[int, typer.Option("--steps", help="Optimiser steps.")] = 500,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 8,
    rank: Annotated[int, typer.Option("--rank", help="LoRA rank.")] = 8,
    learning_rate: Annotated[float, typer.Option("--lr")] = 1e-4,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """LoRA fine-tuning of any SD-shaped checkpoint on our consented dataset (Emu-style quality tuning)."""
    from imagine.model.lora import finetune_lora

    try:
        report = finetune_lora(model, dataset, out, steps=steps, batch_size=batch_size, rank=rank,
                               learning_rate=learning_rate, seed=seed)
    except (ValueError, FileNotFoundError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(f"LoRA weights: {report.weights_path} (loss {report.first_loss:.4f} -> {report.last_loss:.4f}, "
               f"{report.steps} steps, {report.seconds:.1f}s)")


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
    app.command("finetune")(finetune)
