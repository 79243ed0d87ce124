"""stamp -> verify round trips on real PNG/JPEG/WebP bytes, tampering, privacy option, the CLI."""

from __future__ import annotations

import io
import json

import numpy as np

from PIL import Image
from typer.testing import CliRunner

from imagine.guard.metadata import TRAINED_ALGORITHMIC_MEDIA
from imagine.guard.provenance import stamp
from imagine.guard.verify import verify


def _reencode(png: bytes, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").save(buf, fmt, **kw)
    return buf.getvalue()


def test_png_round_trip_reports_every_layer(helpers, settings, info):
    png = stamp(helpers.render(1), info, settings=settings)
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.size == (256, 256)

    report = verify(png)
    assert report.watermark.found and report.watermark.generation_id == info.generation_id
    assert report.watermark.confidence > 0.99
    assert report.parameters["prompt"] == info.prompt
    assert report.parameters["negative_prompt"] == "blurry"
    assert report.parameters["Seed"] == "7" and report.parameters["Steps"] == "12"
    assert report.parameters["Sampler"] == "DPM++ 2M" and report.parameters["Size"] == "256x256"
    assert report.digital_source_type == TRAINED_ALGORITHMIC_MEDIA
    assert report.c2pa.state == "valid" and report.c2pa.trusted
    assert report.c2pa.digital_source_type == TRAINED_ALGORITHMIC_MEDIA
    assert set(report.c2pa.training_mining.values()) == {"notAllowed"}
    assert report.generated_here and report.issued.model_id == "imagine-test"


def test_jpeg_and_webp_reencodes_keep_the_watermark_and_report_c2pa_missing(helpers, settings, info):
    png = stamp(helpers.render(2), info, settings=settings)
    for fmt, kw in (("JPEG", {"quality": 90}), ("JPEG", {"quality": 75}), ("WEBP", {"quality": 80})):
        report = verify(_reencode(png, fmt, **kw))
        assert report.watermark.found, (fmt, kw, report.watermark)
        assert report.watermark.generation_id == info.generation_id
        assert report.c2pa.state == "missing"  # stripped by the re-encode: not "tampered"
        assert report.parameters is None
        assert report.generated_here


def test_downscaled_copy_is_still_recognised(helpers, settings, info):
    png = stamp(helpers.render(3), info, settings=settings)
    small = Image.open(io.BytesIO(png)).convert("RGB").resize((128, 128), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=75)
    report = verify(buf.getvalue())
    assert report.watermark.found and report.generated_here


def test_pixels_edited_after_signing_are_reported_tampered(helpers, settings, info):
    png = stamp(helpers.render(4), info, settings=settings)
    edited = Image.open(io.BytesIO(png)).convert("RGB")
    edited.paste((255, 0, 0), (10, 10, 60, 60))
    buf = io.BytesIO()
    edited.save(buf, "PNG")
    new_idat = [c for c in helpers.png_chunks(buf.getvalue()) if c[0] == b"IDAT"]
    chunks, out, placed = helpers.png_chunks(png), [], False
    for kind, body in chunks:  # keep every original chunk (the manifest too), swap in the new pixels
        if kind == b"IDAT":
            if not placed:
                out.extend(new_idat)
                placed = True
            continue
        out.append((kind, body))
    tampered = helpers.build_png(out)
    assert b"caBX" in tampered

    report = verify(tampered)
    assert report.c2pa.state == "tampered"
    assert any("dataHash" in code for code in report.c2pa.failures), report.c2pa.failures
    assert report.watermark.found  # the mark is still there: the edit touched a small patch


def test_metadata_edited_after_signing_is_reported_tampered(helpers, settings, info):
    png = stamp(helpers.render(5), info, settings=settings)
    out = []
    for kind, body in helpers.png_chunks(png):
        if kind == b"tEXt" and body.startswith(b"parameters\x00"):
            body = body.replace(b"Seed: 7", b"Seed: 8")
        out.append((kind, body))
    report = verify(helpers.build_png(out))
    assert report.parameters["Seed"] == "8"
    assert report.c2pa.state == "tampered"


def test_prompt_can_be_left_out(helpers, settings, info):
    png = stamp(helpers.render(6), info, settings=settings, include_prompt=False)
    assert b"red car" not in png and b"blurry" not in png
    report = verify(png)
    assert report.parameters["prompt"] == "" and report.parameters["negative_prompt"] == ""
    assert report.parameters["Seed"] == "7"
    assert report.c2pa.state == "valid"


def test_label_off_changes_only_two_opposite_corners(helpers, settings, info):
    from dataclasses import replace

    on = Image.open(io.BytesIO(stamp(helpers.render(7), replace(info, generation_id=11), settings=settings))).convert("L")
    off = Image.open(io.BytesIO(stamp(helpers.render(7), replace(info, generation_id=11), settings=settings, visible_label=False))).convert("L")
    diff = np.abs(np.asarray(on, np.int16) - np.asarray(off, np.int16)) > 20
    rows, cols = np.nonzero(diff)
    assert rows.size
    bottom_right = (rows > 200) & (cols > 128)
    top_left = (rows < 56) & (cols < 128)
    assert bottom_right.any() and top_left.any() and (bottom_right | top_left).all()  # the plates, nothing else
    # cropping off the bottom strip or the right side still leaves a plate
    assert diff[:-22].any() and diff[:, :-22].any()


def test_label_strip_crop_and_screenshot_are_still_generated_here(helpers, settings, info):
    """Cropping the label strip used to leave "found" with no payload and generated_here false."""
    from PIL import ImageOps

    png = stamp(helpers.render(12), info, settings=settings)
    img = Image.open(io.BytesIO(png)).convert("RGB")
    canvas = Image.new("RGB", (420, 360), (245, 245, 245))
    canvas.paste(img, (37, 51))
    for edited in (img.crop((0, 0, 256, 256 - 22)), img.crop((0, 0, 256 - 22, 256)), ImageOps.expand(img, 4, fill="white"),
                   canvas, ImageOps.mirror(img), img.rotate(10, resample=Image.Resampling.BICUBIC)):
        buf = io.BytesIO()
        edited.save(buf, "PNG")
        report = verify(buf.getvalue())
        assert report.watermark.found and report.watermark.generation_id == info.generation_id, report.watermark
        assert report.generated_here


def test_delivered_size_is_configurable(helpers, data_home, monkeypatch, info):
    from imagine.config import get_settings

    monkeypatch.setenv("IMAGINE_GUARD__DELIVERED_SIZE", "384")
    get_settings.cache_clear()
    png = stamp(helpers.render(8), info, settings=get_settings())
    assert Image.open(io.BytesIO(png)).size == (384, 384)
    report = verify(png)
    assert report.watermark.found and report.parameters["Size"] == "384x384"


def test_foreign_image_is_not_ours(helpers, settings):
    buf = io.BytesIO()
    helpers.render(9, 256).save(buf, "PNG")
    report = verify(buf.getvalue())
    assert not report.watermark.found and report.watermark.payload is None
    assert report.c2pa.state == "missing" and report.parameters is None
    assert not report.generated_here


def test_other_installation_is_not_generated_here(helpers, tmp_path, monkeypatch, settings, info):
    """Same watermark key, different ledger: the mark is read, but it is not in our record."""
    from imagine.guard.ledger import Ledger

    png = stamp(helpers.render(10), info, settings=settings)
    report = verify(png, ledger=Ledger(tmp_path / "other.sqlite"))
    assert report.watermark.found and not report.generated_here


def test_cli_verify_json(helpers, settings, info, tmp_path):
    from imagine.cli import app

    path = tmp_path / "out.png"
    path.write_bytes(stamp(helpers.render(11), info, settings=settings))
    result = CliRunner().invoke(app, ["verify", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["watermark"]["found"] and data["c2pa"]["state"] == "valid" and data["generated_here"]
    text = CliRunner().invoke(app, ["verify", str(path)])
    assert text.exit_code == 0 and "c2pa:           valid" in text.output
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    failed = CliRunner().invoke(app, ["verify", str(bad)])
    assert failed.exit_code != 0 and "not a readable image" in failed.output
