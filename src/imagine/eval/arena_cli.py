"""`imagine eval arena`: the arena's rankings from the service database or a JSON Lines file of votes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from imagine.eval.cli import eval_app


def load_db_votes(database_url: str) -> list:
    """Every cast vote stored by the web app's arena."""
    from sqlalchemy import select

    from imagine.eval.arena import Vote
    from imagine.db.models_owners import ArenaBattle
    from imagine.db.session import make_engine, make_sessionmaker

    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            rows = session.execute(
                select(ArenaBattle.left, ArenaBattle.right, ArenaBattle.outcome).where(ArenaBattle.outcome.is_not(None))
            ).all()
    finally:
        engine.dispose()
    return [Vote(left=left, right=right, outcome=outcome) for left, right, outcome in rows]


@eval_app.command("arena")
def arena_command(
    votes: Annotated[Optional[Path], typer.Option("--votes", help="JSON Lines of {left, right, outcome}; default: the service database.")] = None,
    plot: Annotated[Optional[Path], typer.Option("--plot", help="Also write the ranking plot (PNG) here.")] = None,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples for the intervals.")] = 1000,
    confidence: Annotated[float, typer.Option(help="Interval coverage.")] = 0.95,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
) -> None:
    """Rank the arena's contestants: Bradley–Terry fit with bootstrap confidence intervals (JSON on stdout)."""
    from imagine.config import get_settings
    from imagine.eval.arena import plot_rankings, rank_votes, read_votes_jsonl

    loaded = read_votes_jsonl(votes) if votes is not None else load_db_votes(get_settings().resolved_database_url)
    result = rank_votes(loaded, bootstrap=bootstrap, confidence=confidence, seed=seed)
    if plot is not None:
        plot_rankings(result, plot)
    typer.echo(json.dumps(result.to_dict(), indent=2))
