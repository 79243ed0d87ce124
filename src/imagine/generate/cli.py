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


def _edit(input_path: Path, prompt: str, *, variation: bool, **options) -> None:
    from imagine.config import get_settings
    from imagine.generate.to_files import edit_to_dir

    try:
        request, paths = edit_to_dir(input_path, prompt, settings=get_settings(), variation=variation, **options)
    except (ValueError, FileNotFoundError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    withheld = request.n - len(paths)
    typer.echo(f"{'variation' if variation else 'edit'} of {input_path} ({request.prompt!r}, strength "
               f"{request.effective_strength:g}): {len(paths)} image(s)"
               + (f" ({withheld} withheld by the output checks)" if withheld else ""))
    for path in paths:
        typer.echo(f"  {path}")


Input = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The image to start from (PNG, JPEG, WebP).")]
N = Annotated[int, typer.Option("-n", "--n", help="Images.")]
Seed = Annotated[Optional[int], typer.Option("--seed", help="Base seed; image i uses seed + i (random when omitted).")]
Steps = Annotated[Optional[int], typer.Option("--steps", help="Sampler steps (an edit runs strength x steps of them).")]
Model = Annotated[Optional[Path], typer.Option("--model", help="Any local diffusers text-to-image or inpainting folder.")]
Out = Annotated[Path, typer.Option("--out", help="Folder for the PNGs.")]
Provenance = Annotated[bool, typer.Option("--provenance/--raw", help="The guarded path (input and prompt checks, stamp; the C2PA manifest names the input) or the raw output.")]


def edit(
    input_path: Input,
    prompt: Annotated[str, typer.Argument(help="What the edited image should show.")],
    mask: Annotated[Optional[Path], typer.Option("--mask", exists=True, dir_okay=False, help="PNG: transparent (or, without alpha, white) pixels are edited; the rest is kept.")] = None,
    strength: Annotated[Optional[float], typer.Option("--strength", help="(0, 1]: how much is redrawn (default 0.75; 1.0 with a mask).")] = None,
    n: N = 4,
    seed: Seed = None,
    steps: Steps = None,
    guidance: Annotated[Optional[float], typer.Option("--guidance", help="Classifier-free guidance scale.")] = None,
    negative: Annotated[Optional[str], typer.Option("--negative", help="Negative prompt.")] = None,
    sampler: Annotated[Optional[str], typer.Option("--sampler", help="dpmpp, unipc, euler, euler_a or ddim.")] = None,
    model: Model = None,
    out: Out = Path("edited"),
    provenance: Provenance = False,
) -> None:
    """Edit an image with a prompt (image-to-image), only inside --mask when given."""
    _edit(input_path, prompt, variation=False, out=out, mask=mask, strength=strength, n=n, seed=seed, steps=steps,
          guidance=guidance, negative=negative, sampler=sampler, model=model, provenance=provenance)


def vary(
    input_path: Input,
    strength: Annotated[Optional[float], typer.Option("--strength", help="(0, 1]: how far from the input (default 0.6).")] = None,
    n: N = 4,
    seed: Seed = None,
    steps: Steps = None,
    model: Model = None,
    out: Out = Path("variations"),
    provenance: Provenance = False,
) -> None:
    """Variations of an image: its own recorded prompt (or none), redrawn from partial noise."""
    _edit(input_path, "", variation=True, out=out, strength=strength, n=n, seed=seed, steps=steps, model=model,
          provenance=provenance)


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
    app.command("edit")(edit)
    app.command("vary")(vary)
    app.command("finetune")(finetune)
