"""The watermark on real rendered images: payload coding, every attack class, presence/payload agreement,
false positives, keys. The full table comes from `imagine eval watermark` (docs/watermark-robustness.md)."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from PIL import Image

from imagine.eval.watermark import psnr, threshold_at
from imagine.eval.watermark_sets import ATTACKS, clean_images, photo_crops, scene_images, texture_images
from imagine.guard import watermark as wm
from imagine.guard.label import add_label

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


def test_convolutional_code_corrects_weak_and_wrong_soft_bits():
    p = wm.Payload(123456789, 4321)
    code = wm.conv_encode(wm.encode_bits(p))
    assert code.shape == (wm.CODED_BITS,)
    rng = np.random.default_rng(0)
    soft = (1.0 - 2.0 * code) + rng.normal(0, 0.5, code.shape)
    soft[[3, 30, 77, 101]] *= -1  # four confidently wrong coded bits, spread out
    assert wm.decode_bits(wm.viterbi_decode(soft)) == p


def _marked(n: int, seed: int) -> list[tuple[Image.Image, wm.Payload]]:
    rng = random.Random(seed)
    hosts = scene_images(n, seed, native=32)
    return [(wm.embed(add_label(h), p := wm.Payload(rng.getrandbits(32), rng.getrandbits(16)), KEY), p) for h in hosts]


def test_embed_keeps_psnr_above_38_db_and_reads_back_at_any_size():
    host = add_label(scene_images(1, 3, native=32)[0])
    p = wm.Payload(42, 7)
    marked = wm.embed(host, p, KEY)
    assert psnr(host, marked) > 38.0
    assert wm.detect(marked, KEY).payload == p
    big = wm.embed(host.resize((512, 512), Image.Resampling.LANCZOS), p, KEY)
    assert wm.detect(big, KEY).payload == p
    assert wm.detect(big.resize((300, 300), Image.Resampling.BICUBIC), KEY).payload == p
    wide = wm.embed(host.resize((384, 256), Image.Resampling.LANCZOS), p, KEY)
    assert wm.detect(wide, KEY).payload == p


# Every attack of the evaluation, on three marked model-like scenes: exact payload on all three.
@pytest.mark.parametrize("attack", [a for a in ATTACKS if a != "resize0.5+jpeg50"])
def test_each_attack_keeps_the_exact_payload(attack):
    rng = random.Random(1)
    for marked, payload in _marked(3, 11):
        found = wm.detect(ATTACKS[attack](marked, rng), KEY)
        assert found.present and found.payload == payload, (attack, found.score, found.scale, found.angle)


def test_label_strip_crop_photo_and_texture_hosts():
    """The edits that used to lose the mark, on harder hosts than the scenes: a photo crop and 1/f noise."""
    rng = random.Random(2)
    for i, (host, attacks) in enumerate(((photo_crops(1, 5)[0], ("crop-bottom22", "crop-right22", "flip", "paste")),
                                         (texture_images(1, 6)[0], ("crop-bottom22", "crop-right22", "flip")))):
        p = wm.Payload(1000 + i, 77)
        marked = wm.embed(add_label(host), p, KEY)
        for attack in attacks:
            assert wm.detect(ATTACKS[attack](marked, rng), KEY).payload == p, (i, attack)


def test_geometry_is_reported():
    marked, payload = _marked(1, 21)[0]
    turned = wm.detect(ATTACKS["flip"](marked, random.Random(0)), KEY)
    assert turned.payload == payload and turned.flipped
    small = wm.detect(ATTACKS["resize0.5"](marked, random.Random(0)), KEY)
    assert small.payload == payload and abs(small.scale - 0.5) < 0.02
    rotated = wm.detect(marked.rotate(10, resample=Image.Resampling.BICUBIC), KEY)
    assert rotated.payload == payload and abs(abs(rotated.angle) - 10) < 1.0


def test_presence_and_payload_agree():
    """Found means a checksummed payload; a mark that cannot be read is not found (no 'found, whose: ?')."""
    marked, payload = _marked(1, 31)[0]
    pictures = [marked, ATTACKS["crop-bottom22"](marked, random.Random(0)), ATTACKS["resize0.5+jpeg50"](marked, random.Random(0))]
    pictures += [img for _, img in clean_images(6, 3, label=add_label)]
    for img in pictures:
        d = wm.detect(img, KEY)
        assert d.present == (d.payload is not None)
        assert d.present == (d.confidence > 0)


def test_other_key_finds_nothing():
    marked, _ = _marked(1, 4)[0]
    found = wm.detect(marked, "another-key")
    assert not found.present and found.payload is None


def test_threshold_at_gives_the_requested_false_positive_rate():
    scores = np.arange(1000, dtype=float)  # 0..999
    t = threshold_at(scores, 0.001)
    assert (scores >= t).mean() <= 0.001 and (scores >= 998.0).mean() > 0.001
    assert threshold_at(scores, 0.0) > 999.0


@pytest.mark.slow
def test_false_positives_on_never_stamped_pictures():
    """Never-stamped pictures of every kind through the whole search: none is reported found."""
    found = [kind for kind, img in clean_images(100, 77, label=add_label) if wm.detect(img, KEY).present]
    assert found == []


def test_eval_watermark_command_writes_table_and_json(data_home, tmp_path):
    from typer.testing import CliRunner

    from imagine.cli import app

    md, js = tmp_path / "wm.md", tmp_path / "wm.json"
    result = CliRunner().invoke(app, ["eval", "watermark", "--n", "1", "--clean", "4", "--sets", "scenes",
                                      "--calibrate", "--out", str(md), "--json-out", str(js)])
    assert result.exit_code == 0, result.output
    data = json.loads(js.read_text())
    assert data["sets"][0]["name"] == "scenes" and data["sets"][0]["images"] == 1
    assert set(data["sets"][0]["tpr"]) == set(ATTACKS)
    assert data["sets"][0]["tpr"]["jpeg75"] == 1.0 and data["sets"][0]["psnr_db"] > 38
    assert data["clean"]["images"] == 4 and data["threshold"] == data["clean"]["calibrated_threshold"]
    text = md.read_text()
    assert "| jpeg75 | 1.00 |" in text and "| SSIM |" in text
    bad = CliRunner().invoke(app, ["eval", "watermark", "--sets", "nope", "--out", str(md), "--json-out", str(js)])
    assert bad.exit_code != 0
