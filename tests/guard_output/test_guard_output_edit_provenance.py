"""An edited image's provenance names its input: C2PA ingredient + opened/edited actions, XMP composite type,
`imagine verify --json`, c2pa-python's own Reader; JPEG/WebP outputs are signed transcodes of the stamped PNG."""

from __future__ import annotations

import io
import json

import c2pa
from PIL import Image
from typer.testing import CliRunner

from imagine.cli import app
from imagine.guard.metadata import (COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA, TRAINED_ALGORITHMIC_MEDIA,
                                    GenerationInfo, SourceImage)
from imagine.guard.provenance import Stamper, encode_as
from imagine.guard.verify import verify


def _reader_store(data: bytes, mime: str) -> dict:
    """What c2pa-python's Reader itself reports (not our summary of it)."""
    with c2pa.Reader(mime, io.BytesIO(data)) as reader:
        return json.loads(reader.json())


def test_edit_records_its_input_as_ingredient(settings, helpers, tmp_path):
    stamper = Stamper.from_settings(settings)
    # The input is itself an image made here, so its own manifest travels inside the edit's.
    original = stamper.stamp(helpers.render(1), GenerationInfo(prompt="a red car", model_id="imagine-test", seed=1))
    edit = GenerationInfo(prompt="a blue car", model_id="imagine-test", seed=2, strength=0.6,
                          source=SourceImage(original, "image/png", "holiday.png"))
    png = stamper.stamp(helpers.render(2), edit)

    store = _reader_store(png, "image/png")
    active = store["manifests"][store["active_manifest"]]
    [ingredient] = active["ingredients"]
    assert ingredient["title"] == "holiday.png" and ingredient["relationship"] == "parentOf"
    assert ingredient["active_manifest"] in store["manifests"]  # the input's own credentials, kept
    actions = [a for s in active["assertions"] if s["label"].startswith("c2pa.actions") for a in s["data"]["actions"]]
    assert [a["action"] for a in actions] == ["c2pa.opened", "c2pa.edited"]
    assert actions[0]["parameters"]["ingredients"][0]["url"].endswith("c2pa.ingredient.v3")
    assert actions[1]["digitalSourceType"] == COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA

    report = verify(png, settings=settings)
    assert report.c2pa.state == "valid" and report.generated_here
    assert report.digital_source_type == COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA  # XMP says so too
    assert report.parameters["Denoising strength"] == "0.6"
    assert report.c2pa.ingredients[0].digital_source_type == TRAINED_ALGORITHMIC_MEDIA

    path = tmp_path / "edited.png"
    path.write_bytes(png)
    result = CliRunner().invoke(app, ["verify", str(path), "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)["c2pa"]
    assert shown["actions"] == ["c2pa.opened", "c2pa.edited"]
    assert shown["ingredients"][0]["title"] == "holiday.png"
    text = CliRunner().invoke(app, ["verify", str(path)])
    assert "ingredient:     holiday.png (image/png, parentOf)" in text.output


def test_jpeg_and_webp_are_signed_transcodes_that_still_verify(settings, helpers, info):
    stamper = Stamper.from_settings(settings)
    png = stamper.stamp(helpers.render(3), info)
    for fmt, mime in (("jpeg", "image/jpeg"), ("webp", "image/webp")):
        data = encode_as(png, fmt, 90, stamper.signing)
        assert Image.open(io.BytesIO(data)).format == fmt.upper()
        report = verify(data, settings=settings)
        assert report.c2pa.state == "valid", (fmt, report.c2pa)
        assert report.c2pa.actions == ("c2pa.opened", "c2pa.transcoded")
        assert report.digital_source_type == TRAINED_ALGORITHMIC_MEDIA  # XMP kept
        assert report.watermark.found and report.generated_here  # the mark survives quality 90
        store = _reader_store(data, mime)
        assert store["manifests"][store["active_manifest"]]["ingredients"][0]["relationship"] == "parentOf"
    assert encode_as(png, "png", 100, stamper.signing) == png
