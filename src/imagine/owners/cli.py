"""`imagine owners ...` and `imagine admin ...`: the owners' library and operator roles from the command line.

    imagine owners status u000005            # each photo: included / excluded and why, versions, models
    imagine owners used photo.jpg            # was this photo used? (any image, every dataset version)
    imagine owners export u000005 --out me.json
    imagine admin grant ops@example.org      # give an account the operators' views (/admin)
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer

owners_app = typer.Typer(help="Photo owners: status of their photos, was-this-used lookups, GDPR export.", no_args_is_help=True)
admin_app = typer.Typer(help="Operator accounts of the web app (admin role).", no_args_is_help=True)


@contextmanager
def _session() -> Iterator:
    """A session on the configured database, migrated first (the same database `imagine serve` uses)."""
    from imagine.config import get_settings
    from imagine.db.migrate import upgrade
    from imagine.db.session import make_engine, make_sessionmaker

    engine = make_engine(get_settings().resolved_database_url)
    try:
        upgrade(engine)
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _paths():
    from imagine.config import get_settings
    from imagine.owners.paths import OwnerPaths

    return OwnerPaths.from_settings(get_settings())


@owners_app.command("status")
def status_command(owner_id: Annotated[str, typer.Argument(help="The platform owner id.")]) -> None:
    """Each photo of an owner: in the current training set or not (and why), dataset versions, models (JSON)."""
    from imagine.owners.export import to_json
    from imagine.owners.posts import owner_posts
    from imagine.owners.status import photo_statuses

    paths = _paths()
    statuses = photo_statuses(owner_posts(paths.platform_dir, owner_id), dataset_dir=paths.dataset_dir, registry=paths.registry)
    typer.echo(to_json([s.to_dict() for s in statuses]))


@owners_app.command("used")
def used_command(image: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Any image file.")]) -> None:
    """Was this photo used? Matches by file hash and perceptual hash against every dataset version (JSON)."""
    from imagine.owners.export import to_json
    from imagine.owners.used import was_this_used

    paths = _paths()
    typer.echo(to_json(was_this_used(paths.dataset_dir, image, registry=paths.registry).to_dict()))


@owners_app.command("export")
def export_command(
    owner_id: Annotated[str, typer.Argument(help="The platform owner id.")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Write here (atomically) instead of stdout.")] = None,
) -> None:
    """Everything held about an owner, as one JSON document (GDPR access request)."""
    from imagine.atomic import atomic_write
    from imagine.owners.export import export_owner, to_json

    paths = _paths()
    with _session() as session:
        text = to_json(export_owner(session, owner_id=owner_id, platform_dir=paths.platform_dir, dataset_dir=paths.dataset_dir,
                                    registry=paths.registry, events_path=paths.events))
    if out is None:
        typer.echo(text)
    else:
        atomic_write(out, text)
        typer.echo(f"wrote {out}")


def _set_role(email: str, role: str) -> None:
    from sqlalchemy import select

    from imagine.serve.accounts import normalise_email
    from imagine.db.models import User

    with _session() as session:
        user = session.scalar(select(User).where(User.email == normalise_email(email)))
        if user is None:
            raise typer.BadParameter(f"no account {email!r}; sign up in the web app first", param_hint="EMAIL")
        user.role = role
        session.commit()
    typer.echo(json.dumps({"email": email, "role": role}))


@admin_app.command("grant")
def grant_command(email: Annotated[str, typer.Argument(help="The account's e-mail.")]) -> None:
    """Give an account the admin role (the operators' views at /admin)."""
    _set_role(email, "admin")


@admin_app.command("revoke")
def revoke_command(email: Annotated[str, typer.Argument(help="The account's e-mail.")]) -> None:
    """Take the admin role away again."""
    _set_role(email, "user")


def register(app: typer.Typer) -> None:
    app.add_typer(owners_app, name="owners")
    app.add_typer(admin_app, name="admin")
