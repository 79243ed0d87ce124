"""`imagine policy ...`: the prompt policy from the command line (a shim over ``PromptPolicy``).

    imagine policy check "a pop singer performing 'Blank Space'" --json
    imagine policy corpus            # regenerate the labelled corpus (deterministic)
    imagine policy train             # fit + calibrate the learned check, draw its P/R curves

Exit code 0 when the prompt is allowed, 1 when it is refused (so scripts can branch on it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from imagine.guard.policy_corpus import CORPUS_PATH
from imagine.guard.policy_model import MODEL_PATH

policy_app = typer.Typer(help="Prompt policy: protected people and unsafe categories.", no_args_is_help=True)

DEFAULT_CURVES = Path("docs/policy-pr.png")


@policy_app.command("check")
def check_command(
    prompt: Annotated[str, typer.Argument(help="The prompt to check.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
    policy_file: Annotated[Optional[list[Path]], typer.Option("--policy-file", help="Operator policy TOML (repeatable); default: settings.")] = None,
) -> None:
    """Check one prompt: allowed (exit 0) or refused with category, code and reason (exit 1)."""
    from imagine.config import get_settings
    from imagine.guard.policy import PromptPolicy

    decision = PromptPolicy.load(policy_file or None, settings=get_settings()).check(prompt)
    if json_output:
        typer.echo(json.dumps(decision.to_dict(), ensure_ascii=False))
    elif decision.allowed:
        typer.echo("allowed")
    else:
        typer.echo(f"refused: {decision.code} ({decision.category})\nreason:  {decision.reason}\nmatched: {decision.matched}")
    raise typer.Exit(0 if decision.allowed else 1)


@policy_app.command("corpus")
def corpus_command(
    out: Annotated[Path, typer.Option(help="Where to write the corpus (JSONL).")] = CORPUS_PATH,
) -> None:
    """Regenerate the labelled corpus from templates x vocabularies x languages x evasions + hand-written prompts."""
    from collections import Counter

    from imagine.guard.policy_corpus import write_corpus

    rows = write_corpus(out)
    splits = Counter(r.split for r in rows)
    typer.echo(f"wrote {len(rows)} prompts to {out} ({', '.join(f'{k} {v}' for k, v in sorted(splits.items()))})")


@policy_app.command("train")
def train_command(
    corpus: Annotated[Path, typer.Option(help="Labelled corpus (JSONL).")] = CORPUS_PATH,
    out: Annotated[Path, typer.Option(help="Where to write the model (.npz).")] = MODEL_PATH,
    curves: Annotated[Path, typer.Option(help="Precision/recall curves (PNG).")] = DEFAULT_CURVES,
) -> None:
    """Fit the learned check on the corpus's train split, calibrate thresholds on dev, draw test P/R curves."""
    from imagine.config import get_settings
    from imagine.guard.policy import PromptPolicy
    from imagine.guard.policy_data import load_policy_data
    from imagine.guard.policy_train import train
    from imagine.progress import progress_bar

    # The shipped data only: operator files never shape the shipped model.
    policy = PromptPolicy(load_policy_data(), semantic=False)
    home = get_settings().data_home
    cache_dir = home / "cache" if home.is_dir() else None
    with progress_bar() as bar:
        task = bar.add_task("embedding the corpus", total=None)
        model, _ = train(policy, corpus=corpus, out=out, curves_png=curves,
                         progress=lambda done, total: bar.update(task, completed=done, total=total), cache_dir=cache_dir)
    typer.echo(f"wrote {out}; thresholds (dev): " + ", ".join(f"{k} {v:.2f}" for k, v in model.thresholds.items()))
    typer.echo(f"precision/recall curves (test): {curves}")
