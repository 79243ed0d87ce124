"""CLI commands of the dataset stage (`imagine dataset ...`): thin shims over the library functions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

dataset_app = typer.Typer(help="Consent-aware dataset: build versions, apply events, purge, look up.",
                          no_args_is_help=True)

OutOpt = Annotated[Optional[Path], typer.Option("--out", help="Dataset folder (default: <datasets_dir>/demo).")]


def _out(out: Path | None) -> Path:
    from imagine.config import get_settings

    return out if out is not None else get_settings().datasets_dir / "demo"


@dataset_app.command("build")
def build_cmd(
    manifest: Annotated[Optional[str], typer.Option(help="posts.parquet, path or fsspec URL (default: <platform_dir>/posts.parquet).")] = None,
    owners: Annotated[Optional[str], typer.Option(help="owners.parquet, path or fsspec URL (default: <platform_dir>/owners.parquet).")] = None,
    policy: Annotated[Optional[Path], typer.Option(help="Policy TOML (default: the shipped default policy).")] = None,
    events: Annotated[Optional[str], typer.Option(help="Platform events.jsonl whose revocations bind this build (default: the export's events.jsonl beside the manifest).")] = None,
    no_events: Annotated[bool, typer.Option("--no-events", help="Do not read the export's events.jsonl (build the manifest snapshot as it was).")] = False,
    out: OutOpt = None,
    ray_address: Annotated[Optional[str], typer.Option("--ray-address", help="Run on Ray Data ('local' starts one).")] = None,
    workers: Annotated[int, typer.Option(help="Local runner processes.")] = 1,
    batch_size: Annotated[int, typer.Option(help="Rows per record batch.")] = 1024,
    resolution: Annotated[Optional[int], typer.Option(help="Training resolution (default: settings).")] = None,
    captioner: Annotated[str, typer.Option(help="Descriptive captions: 'checker' (the demo captioner), 'none', or a local image-to-text model folder.")] = "checker",
) -> None:
    """Build a new dataset version from a platform manifest."""
    if events is not None and no_events:
        raise typer.BadParameter("give --events or --no-events, not both")
    from rich.table import Table

    from imagine.config import get_settings
    from imagine.dataset.build import build_dataset
    from imagine.progress import console

    platform = get_settings().platform_dir
    report = build_dataset(manifest or platform / "posts.parquet", owners or platform / "owners.parquet", policy,
                           _out(out), events=events, export_events=not no_events, ray_address=ray_address, workers=workers,
                           batch_size=batch_size, resolution=resolution, captioner=captioner)
    console.print(f"{report.dataset_dir} v{report.version}: {report.rows} rows of {report.posts} posts "
                  f"in {report.seconds:.1f}s ({report.runner} runner)")
    table = Table()
    table.add_column("stage")
    table.add_column("posts/s of stage time", justify="right")
    for stage, rate in report.rates().items():
        table.add_row(stage, f"{rate:,.0f}")
    console.print(table)
    reasons = Table(title="decisions by reason")
    reasons.add_column("reason")
    reasons.add_column("posts", justify="right")
    for reason, n in sorted(report.counts_by_reason.items(), key=lambda kv: -kv[1]):
        reasons.add_row(reason, str(n))
    console.print(reasons)
    typer.echo(f"card: {report.card_dir / 'CARD.md'}")


@dataset_app.command("apply-events")
def apply_events_cmd(
    events: Annotated[Optional[Path], typer.Option(help="events.jsonl (default: <platform_dir>/events.jsonl).")] = None,
    out: OutOpt = None,
    policy: Annotated[Optional[Path], typer.Option(help="Policy TOML (which visibilities remain allowed).")] = None,
) -> None:
    """New version without every post the events revoke (deletions, opt-outs, visibility changes)."""
    from imagine.config import get_settings
    from imagine.dataset.events import apply_events

    report = apply_events(_out(out), events or get_settings().platform_dir / "events.jsonl", policy=policy)
    if report.version is None:
        typer.echo("no event revokes a post of the latest version; no new version")
    else:
        typer.echo(f"v{report.version}: revoked {report.revoked} posts {report.by_event_type} "
                   f"in {report.seconds:.2f}s; run `imagine dataset purge` to erase their bytes")


@dataset_app.command("purge")
def purge_cmd(
    out: OutOpt = None,
    retention_days: Annotated[Optional[int], typer.Option(help="Keep old versions this long when nothing is to erase (default: settings).")] = None,
) -> None:
    """Physically erase revoked images (compaction, cleanup of old versions and tags) and prove it."""
    from imagine.dataset.purge import purge

    report = purge(_out(out), retention_days=retention_days)
    p = report.proof
    typer.echo(f"v{report.version}: erased {report.purged_posts} posts, removed {report.versions_removed} old "
               f"versions ({report.bytes_removed:,} bytes) in {report.seconds:.2f}s")
    typer.echo(f"proof: scanned {p.files_scanned} files / {p.bytes_scanned:,} bytes for {p.needles} needles of "
               f"{p.posts_checked} posts: {len(p.hits)} found; control ({p.control_posts} present posts) found "
               f"{p.control_found} -> "
               + ("ERASED" if p.erased else "INCONCLUSIVE" if not p.hits else "NOT ERASED"))
    if report.missing_needles:
        typer.echo(f"{len(report.missing_needles)} posts had no bytes left to look for (interrupted earlier purge)")


@dataset_app.command("lookup")
def lookup_cmd(
    post: Annotated[Optional[str], typer.Option("--post", help="A post id.")] = None,
    owner: Annotated[Optional[str], typer.Option("--owner", help="An owner id.")] = None,
    image: Annotated[Optional[Path], typer.Option("--image", help="An image file (matched by hash).")] = None,
    out: OutOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Was this photo used, where, and is it still?"""
    from dataclasses import asdict

    from imagine.dataset import lookup

    if sum(x is not None for x in (post, owner, image)) != 1:
        raise typer.BadParameter("give exactly one of --post, --owner, --image")
    ds = _out(out)
    if image is not None:
        try:
            matches = lookup.lookup_image(ds, image)
        except ValueError as exc:  # ImageRejected: too large, not an image, a decompression bomb, truncated
            raise typer.BadParameter(str(exc), param_hint="--image") from exc
        if as_json:
            typer.echo(json.dumps([asdict(m) for m in matches], indent=2))
            return
        if not matches:
            typer.echo("no matching image in the latest version")
        for m in matches:
            typer.echo(f"{m.post_id} (owner {m.owner_id}): hash distance {m.distance}, pixel rmse {m.rmse}, confidence {m.confidence}, "
                       f"{'exact file, ' if m.exact else ''}versions {m.versions}")
        return
    histories = [lookup.lookup_post(ds, post)] if post is not None else lookup.lookup_owner(ds, owner)
    if as_json:
        typer.echo(json.dumps([asdict(h) for h in histories], indent=2, default=str))
        return
    for h in histories:
        typer.echo(h.summary)


@dataset_app.command("info")
def info_cmd(
    out: OutOpt = None,
    version: Annotated[Optional[int], typer.Option(help="A committed version (default: the latest).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print card.json instead of CARD.md.")] = False,
) -> None:
    """Show the dataset card of a version, and the list of committed versions."""
    from imagine.dataset.card import card_dir
    from imagine.dataset.versions import latest_version, list_versions

    ds = _out(out)
    v = version if version is not None else latest_version(ds)
    path = card_dir(ds, v) / ("card.json" if as_json else "CARD.md")
    typer.echo(path.read_text(encoding="utf-8"))
    if not as_json:
        typer.echo("versions: " + ", ".join(f"v{x.version} ({x.kind}, {x.rows} rows)" for x in list_versions(ds)))


def register(app: typer.Typer) -> None:
    app.add_typer(dataset_app, name="dataset")
    dataset_app.command("card", help="Alias of `info`.")(info_cmd)
