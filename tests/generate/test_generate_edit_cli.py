"""`imagine edit` and `imagine vary` end to end: files, masks honoured, same seed same pixels, provenance."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from imagine.cli import app


def run(*args):
    result = CliRunner().invoke(app, [*map(str, args)])
    assert result.exit_code == 0, result.output
    return result.output


def _input(tmp_path):
    image = Image.new("RGB", (64, 64), (40, 110, 190))
    ImageDraw.Draw(image).ellipse((8, 8, 30, 30), fill=(220, 30, 30))
    path = tmp_path / "input.png"
    image.save(path)
    mask = Image.new("RGBA", (64, 64), (0, 0, 0, 255))  # OpenAI's convention: transparent = edit
    ImageDraw.Draw(mask).rectangle((32, 32, 63, 63), fill=(0, 0, 0, 0))
    mask.save(tmp_path / "mask.png")
    grey = Image.new("L", (64, 64), 0)  # no alpha: white = edit
    ImageDraw.Draw(grey).rectangle((32, 32, 63, 63), fill=255)
    grey.save(tmp_path / "grey-mask.png")
    return path, image


def test_edit_with_mask_keeps_the_rest_and_repeats_exactly(tiny_sd_dir, tmp_path):
    path, image = _input(tmp_path)
    common = ["-n", 2, "--seed", 4, "--steps", 4, "--model", tiny_sd_dir]
    out = run("edit", path, "a green tree", "--mask", tmp_path / "mask.png", *common, "--out", tmp_path / "one")
    assert "edit of" in out and "strength 1" in out
    run("edit", path, "a green tree", "--mask", tmp_path / "grey-mask.png", *common, "--out", tmp_path / "two")
    files = sorted((tmp_path / "one").glob("*.png"))
    assert [p.name for p in files] == ["a-green-tree-4.png", "a-green-tree-5.png"]
    keep = np.ones((64, 64), bool)
    keep[32:, 32:] = False
    for f in files:
        edited = np.asarray(Image.open(f), np.int16)
        diff = np.abs(edited - np.asarray(image, np.int16))
        assert diff[keep].max() == 0 and diff[~keep].mean() > 5
        # the same command (either mask convention): bit-identical
        assert np.array_equal(edited, np.asarray(Image.open(tmp_path / "two" / f.name), np.int16))


def test_vary_and_edit_refusals(tiny_sd_dir, tmp_path):
    path, _ = _input(tmp_path)
    out = run("vary", path, "-n", 2, "--seed", 1, "--steps", 4, "--model", tiny_sd_dir, "--out", tmp_path / "v")
    assert "strength 0.6" in out and len(list((tmp_path / "v").glob("*.png"))) == 2
    bad = CliRunner().invoke(app, ["edit", str(path), "x", "--strength", "1.5", "--model", str(tiny_sd_dir),
                                   "--out", str(tmp_path)])
    assert bad.exit_code != 0 and "strength must be" in bad.output
    (tmp_path / "junk.png").write_bytes(b"not an image")
    bad = CliRunner().invoke(app, ["edit", str(tmp_path / "junk.png"), "x", "--model", str(tiny_sd_dir)])
    assert bad.exit_code != 0 and "image" in bad.output.lower()
    Image.new("L", (10, 10), 255).save(tmp_path / "small.png")
    bad = CliRunner().invoke(app, ["edit", str(path), "x", "--mask", str(tmp_path / "small.png"),
                                   "--model", str(tiny_sd_dir)])
    assert bad.exit_code != 0 and "must match" in bad.output


def test_edit_provenance_names_the_input(tiny_sd_dir, tmp_path, data_home):
    path, _ = _input(tmp_path)
    run("edit", path, "a blue car", "-n", 1, "--seed", 2, "--steps", 2, "--model", tiny_sd_dir, "--provenance",
        "--out", tmp_path / "p")
    (edited,) = sorted((tmp_path / "p").glob("*.png"))
    from imagine.guard.verify import verify

    report = verify(edited)
    assert report.c2pa.state == "valid" and report.generated_here
    assert report.c2pa.actions == ("c2pa.opened", "c2pa.edited")
    assert report.c2pa.ingredients[0].title == "input.png"
    assert report.parameters["Denoising strength"] == "0.75"


def test_an_input_that_copies_a_training_photo_is_refused(tiny_sd_dir, tmp_path, data_home, monkeypatch):
    """The input goes through the output checks too: editing someone's training photo is refused, with nothing
    written; a prompt the policy refuses is refused for edits as for generations."""
    from .test_generate_cli import _dataset_of

    path, _ = _input(tmp_path)
    monkeypatch.setenv("IMAGINE_SERVE__GUARD_DATASET", str(_dataset_of([path], tmp_path / "dataset")))
    common = ["-n", 1, "--steps", 2, "--model", str(tiny_sd_dir), "--provenance"]
    refused = CliRunner().invoke(app, ["edit", str(path), "a blue car", *map(str, common), "--out", str(tmp_path / "r")])
    assert refused.exit_code != 0 and "input image was refused" in refused.output and "memorized" in refused.output
    assert not (tmp_path / "r").exists()
    other = tmp_path / "other.png"
    Image.new("RGB", (64, 64), (250, 250, 20)).save(other)
    refused = CliRunner().invoke(app, ["edit", str(other), "a nude photo of a child", *map(str, common),
                                       "--out", str(tmp_path / "r")])
    assert refused.exit_code != 0 and "content policy" in refused.output
