"""`imagine eval ...`: every evaluation (compositional, policy, watermark, ...) as one group.

Each evaluation lives in its own module under ``imagine/eval/`` and adds its command to
``eval_app`` here; heavy imports stay inside the command functions.
"""

from __future__ import annotations

import typer

eval_app = typer.Typer(help="Evaluations: compositional benchmark, policy, watermark robustness, memorization.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    import imagine.eval.arena_cli  # noqa: F401  (adds `imagine eval arena`)
    import imagine.eval.compositional_cli  # noqa: F401  (adds `imagine eval compositional`)
    import imagine.eval.watermark  # noqa: F401  (adds `imagine eval watermark`)
    import imagine.eval.policy  # noqa: F401  (adds `imagine eval policy`)
    app.add_typer(eval_app, name="eval")
