"""The `imagine dataset` commands, end to end in-process on the demo platform under a data home."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from imagine.cli import app


def test_cli_build_apply_purge_lookup_info(data_home):
    from imagine.platform.demo import generate_demo

    generate_demo(data_home / "platform", posts=120, seed=5, progress=False)
    runner = CliRunner()
    res = runner.invoke(app, ["dataset", "build", "--no-events"])
    assert res.exit_code == 0, res.output
    out = data_home / "datasets" / "demo"
    assert (out / "images.lance").is_dir() and "CARD.md" in res.output
    res = runner.invoke(app, ["dataset", "apply-events"])
    assert res.exit_code == 0 and "revoked" in res.output, res.output
    res = runner.invoke(app, ["dataset", "purge"])
    assert res.exit_code == 0 and "ERASED" in res.output, res.output
    rev = json.loads(runner.invoke(app, ["dataset", "lookup", "--owner", "u000000", "--json"]).output)
    assert rev and all("decisions" in h for h in rev)
    res = runner.invoke(app, ["dataset", "info", "--json"])
    card = json.loads(res.output)
    assert card["kind"] == "purge" and card["purge"]["proof"]["erased"] is True
    res = runner.invoke(app, ["dataset", "lookup", "--post", "p1", "--owner", "u1"])
    assert res.exit_code != 0
