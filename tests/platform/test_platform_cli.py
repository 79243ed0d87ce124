"""`imagine platform demo` prints the summary table and the claim-code path, honouring settings."""

from __future__ import annotations

from typer.testing import CliRunner

from imagine.cli import app


def test_platform_demo_command(data_home):
    result = CliRunner().invoke(app, ["platform", "demo", "--posts", "80", "--seed", "3", "--workers", "1"])
    assert result.exit_code == 0, result.output
    out = data_home / "platform"
    assert (out / "posts.parquet").is_file() and (out / "claim_codes.json").is_file()
    for row in ("public", "friends", "private", "deleted posts", "opted out", "minors", "regions",
                "reserved by metadata", "corrupt files", "duplicate groups"):
        assert row in result.output, row
    assert f"claim codes: {out / 'claim_codes.json'}" in result.output.replace("\n", "")


def test_platform_demo_rejects_bad_post_count(tmp_path):
    result = CliRunner().invoke(app, ["platform", "demo", "--posts", "0", "--out", str(tmp_path)])
    assert result.exit_code != 0


def test_eval_checker_command_prints_the_figures():
    result = CliRunner().invoke(app, ["platform", "eval-checker", "--scenes", "20"])
    assert result.exit_code == 0, result.output
    assert "| clean 32px |" in result.output and "another random scene" in result.output
