"""CLI commands of the guard stage; `register(app)` adds them to the root `imagine` app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    from imagine.guard.policy_cli import policy_app

    app.command("verify")(verify_command)
    app.add_typer(policy_app, name="policy")


def verify_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Image file to check (PNG, JPEG, WebP).")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check an image for our watermark, metadata and C2PA credentials, and whether we generated it."""
    import json

    from imagine.guard.verify import verify

    try:
        report = verify(file)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="FILE") from exc
    if json_output:
        typer.echo(json.dumps(report.to_dict(), indent=2, default=str))
        return
    wm = report.watermark
    typer.echo(f"file:           {file} ({report.format}, {report.size[0]}x{report.size[1]})")
    typer.echo(f"watermark:      {'found' if wm.found else 'not found'} (score {wm.score} vs {wm.threshold}, confidence {wm.confidence})"
               + (f", payload {wm.payload}" if wm.payload else ""))
    typer.echo(f"source type:    {report.digital_source_type or '-'}")
    if report.parameters:
        typer.echo("parameters:     " + ", ".join(f"{k}={v!r}" for k, v in report.parameters.items()))
    c = report.c2pa
    detail = f" ({', '.join(c.failures)})" if c.failures else (" (trusted)" if c.trusted else "")
    typer.echo(f"c2pa:           {c.state}{detail}")
    if c.actions:
        typer.echo(f"c2pa actions:   {', '.join(c.actions)}")
    for ingredient in c.ingredients:
        typer.echo(f"ingredient:     {ingredient.title} ({ingredient.format}, {ingredient.relationship})"
                   + (f", its own manifest says {ingredient.digital_source_type}" if ingredient.digital_source_type else ""))
    typer.echo(f"generated here: {'yes' if report.generated_here else 'no'}"
               + (f" (model {report.issued.model_id}, {report.issued.created_at})" if report.issued else ""))
