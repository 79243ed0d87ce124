"""The watermark on real rendered images: payload coding, robustness floors, false positives, keys."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

from imagine.eval.watermark import ATTACKS, evaluate_set, scene_images, texture_images
from imagine.guard import watermark as wm

KEY = "test-key"


def test_payload_bits_round_trip_and_crc_catches_errors():
    p = wm.Payload(0xDEADBEEF, 0x1234)
    bits = wm.encode_bits(p)
    assert bits.shape == (wm.CODE_BITS,) and wm.decode_bits(bits) == p
    for i in (0, 17, 47, 50, 63):
        flipped = bits.copy()
        flipped[i] ^= 1
        assert wm.decode_bits(flipped) is None
    with pytest.raises(ValueError):
        wm.Payload(2**32, 0)


def test_chase_decoding_repairs_the_weakest_bits():
    p = wm.Payload(123456789, 4321)
    soft = (1.0 - 2.0 * wm.encode_bits(p)) * 0.8
    soft[[3, 30]] *= -0.05  # two wrong but barely-decided bits
    payload, _ = wm._chase_decode(soft)
    assert payload == p


def test_embed_is_nearly_invisible_and_reads_back_at_any_size():
    host = scene_images(1, 3, native=32)[0]
    p = wm.Payload(42, 7)
    marked = wm.embed(host, p, KEY)
    diff = np.asarray(marked, np.float32) - np.asarray(host, np.float32)
    psnr = 10 * np.log10(255**2 / (diff**2).mean())
    assert psnr > 33
    assert wm.detect(marked, KEY).payload == p
    big = wm.embed(host.resize((512, 512), Image.Resampling.LANCZOS), p, KEY)
    assert wm.detect(big, KEY).payload == p
    assert wm.detect(big.resize((300, 300), Image.Resampling.BICUBIC), KEY).payload == p


def test_other_key_finds_nothing():
    host = scene_images(1, 4, native=32)[0]
    marked = wm.embed(host, wm.Payload(1, 2), KEY)
    found = wm.detect(marked, "another-key")
    assert not found.present and found.payload is None


def test_robustness_floors_on_scenes_and_textures():
    """Small-sample floors; the full table comes from `imagine eval watermark` (docs/watermark-robustness.md)."""
    attacks = {k: ATTACKS[k] for k in ("none", "jpeg75", "jpeg50", "resize0.5", "crop10", "rotate2", "webp80")}
    scenes = evaluate_set("scenes", scene_images(6, 11, native=32), scene_images(6, 12, native=32),
                          key=KEY, strength=wm.DEFAULT_STRENGTH, threshold=wm.DEFAULT_THRESHOLD, attacks=attacks)
    for name in ("none", "jpeg75", "resize0.5"):
        assert scenes.attacks[name].detection == 1.0 and scenes.attacks[name].payload >= 5 / 6, (name, scenes.attacks[name])
    for name in ("jpeg50", "crop10", "rotate2", "webp80"):
        assert scenes.attacks[name].detection >= 5 / 6 and scenes.attacks[name].bit_accuracy >= 0.95, name
    assert scenes.psnr_db > 33
    assert scenes.false_positive_rate == 0.0 and scenes.clean_score_max < wm.DEFAULT_THRESHOLD

    textures = evaluate_set("textures", texture_images(4, 21), texture_images(4, 22), key=KEY,
                            strength=wm.DEFAULT_STRENGTH, threshold=wm.DEFAULT_THRESHOLD,
                            attacks={k: ATTACKS[k] for k in ("jpeg75", "resize0.5")})
    assert textures.attacks["jpeg75"].detection == 1.0 and textures.attacks["resize0.5"].detection == 1.0
    assert textures.false_positive_rate == 0.0


def test_weaker_mark_scores_lower():
    """Strength is the visibility/robustness dial: halving it lowers the detection score."""
    host = scene_images(1, 5, native=None)[0]
    rng = random.Random(0)
    scores = [wm.detect(ATTACKS["jpeg50"](wm.embed(host, wm.Payload(9, 9), KEY, s), rng), KEY).score for s in (1.0, 3.0)]
    assert scores[0] < scores[1]


def test_eval_watermark_command_writes_table_and_json(data_home, tmp_path):
    import json

    from typer.testing import CliRunner

    from imagine.cli import app

    md, js = tmp_path / "wm.md", tmp_path / "wm.json"
    result = CliRunner().invoke(app, ["eval", "watermark", "--n", "2", "--clean", "2", "--sets", "scenes",
                                      "--out", str(md), "--json-out", str(js)])
    assert result.exit_code == 0, result.output
    data = json.loads(js.read_text())
    assert data["sets"][0]["name"] == "scenes" and data["sets"][0]["images"] == 2
    assert set(data["sets"][0]["attacks"]) == set(ATTACKS)
    assert data["sets"][0]["attacks"]["jpeg75"]["detection"] == 1.0
    assert "| scenes (n=2) |" in md.read_text()
    bad = CliRunner().invoke(app, ["eval", "watermark", "--sets", "nope", "--out", str(md), "--json-out", str(js)])
    assert bad.exit_code != 0
