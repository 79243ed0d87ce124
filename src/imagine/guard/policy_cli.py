"""`imagine policy ...`: the prompt policy from the command line (a shim over ``PromptPolicy``).

    imagine policy check "a pop singer performing 'Blank Space'" --json

Exit code 0 when the prompt is allowed, 1 when it is refused (so scripts can branch on it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

policy_app = typer.Typer(help="Prompt policy: protected people and unsafe categories.", no_args_is_help=True)


@policy_app.command("check")
def check_command(
    prompt: Annotated[str, typer.Argument(help="The prompt to check.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
    policy_file: Annotated[Optional[list[Path]], typer.Option("--policy-file", help="Operator policy TOML (repeatable); default: settings.")] = None,
) -> None:
    """Check one prompt: allowed (exit 0) or refused with category, code and reason (exit 1)."""
    from imagine.guard.policy import PromptPolicy

    decision = PromptPolicy.load(policy_file or None).check(prompt)
    if json_output:
        typer.echo(json.dumps(decision.to_dict(), ensure_ascii=False))
    elif decision.allowed:
        typer.echo("allowed")
    else:
        typer.echo(f"refused: {decision.code} ({decision.category})\nreason:  {decision.reason}\nmatched: {decision.matched}")
    raise typer.Exit(0 if decision.allowed else 1)
