"""`imagine eval compositional`: a shim over `imagine.eval.compositional.run_compositional`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from imagine.eval.cli import eval_app


@eval_app.command("compositional")
def compositional_command(
    model: Annotated[Optional[Path], typer.Option("--model", help="Any local diffusers text-to-image folder (default: shipped model).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for compositional.json and compositional_grid.png.")] = Path("compositional"),
    prompts_per_category: Annotated[int, typer.Option("--prompts-per-category", help="Held-out scenes per category.")] = 10,
    images_per_prompt: Annotated[int, typer.Option("--images-per-prompt")] = 4,
    steps: Annotated[Optional[int], typer.Option("--steps", help="Sampler steps (default: settings generate.steps).")] = None,
    guidance: Annotated[Optional[float], typer.Option("--guidance")] = None,
    sampler: Annotated[Optional[str], typer.Option("--sampler")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Picks the scenes and the image seeds.")] = 0,
    checker_dir: Annotated[Optional[Path], typer.Option("--checker", help="Scene checker folder (default: shipped).")] = None,
) -> None:
    """GenEval-style held-out compositional benchmark: per-category accuracy, paraphrase gap, sample grid, JSON."""
    from imagine.eval.compositional import format_table, run_compositional

    try:
        report = run_compositional(model, out, prompts_per_category=prompts_per_category, images_per_prompt=images_per_prompt,
                                   steps=steps, guidance=guidance, sampler=sampler, seed=seed, checker_dir=checker_dir)
    except (ValueError, FileNotFoundError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(format_table(report))
    typer.echo(f"overall {report.overall:.3f}  paraphrase gap {report.paraphrase_gap:+.3f}  synonym gap {report.synonym_gap:+.3f}  "
               f"true renders {report.truth_overall:.3f}  ({report.model_id}, {report.seconds:.0f}s)")
    typer.echo(f"results: {out / 'compositional.json'}  grid: {out / 'compositional_grid.png'}")


@eval_app.command("eye-agreement")
def eye_agreement_command(
    checker_dir: Annotated[Optional[Path], typer.Option("--checker", help="Scene checker folder (default: shipped).")] = None,
) -> None:
    """How often the scene checker agrees with hand labels of generated images (the benchmark's judge, checked)."""
    from imagine.eval.compositional_eye import eye_agreement
    from imagine.platform.checker import SceneChecker

    try:
        result = eye_agreement(SceneChecker.load(checker_dir))
    except (ValueError, FileNotFoundError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo("\n".join(result.lines()))
