"""The event log helpers and caption vocabularies."""

from __future__ import annotations

import random

import pytest

from imagine.platform import captions
from imagine.platform.metadata import SIGNAL_CAWG, SIGNAL_DMI, read_training_signals, xmp_packet
from imagine.platform.scenes import Scene, SceneObject, sample_scene
from imagine.platform.schema import append_event, read_events


def test_append_and_read_events(tmp_path):
    log = tmp_path / "events.jsonl"
    first = {"event_id": "x1", "ts": "2025-02-01T00:00:00Z", "type": "owner_opted_out", "owner_id": "u1", "post_id": None}
    second = {"event_id": "x2", "ts": "2025-02-02T00:00:00Z", "type": "visibility_changed", "owner_id": "u1",
              "post_id": "p1", "visibility": "private"}
    append_event(log, first)
    append_event(log, second)
    assert list(read_events(log)) == [first, second]
    with pytest.raises(ValueError):
        append_event(log, {**first, "type": "owner_exploded"})
    with pytest.raises(ValueError):
        append_event(log, {**second, "visibility": "everyone"})
    with pytest.raises(ValueError):
        append_event(log, {**first, "post_id": "p1"})
    assert len(list(read_events(log))) == 2
    log.write_text(log.read_text() + "{not json\n")
    with pytest.raises(ValueError, match=":3:"):
        list(read_events(log))


def test_training_signals_round_trip_and_absence():
    assert read_training_signals(xmp_packet(dmi_prohibited=True)) == {SIGNAL_DMI}
    assert read_training_signals(xmp_packet(cawg_not_allowed=True)) == {SIGNAL_CAWG}
    assert read_training_signals(xmp_packet()) == frozenset()
    assert read_training_signals(b"\xff\xd8 no xmp here") == frozenset()


def test_describe_scene_canonical_casual_and_held_out():
    scene = Scene("beach", (
        SceneObject("car", "red", (0.05, 0.4, 0.3, 0.65)),
        SceneObject("car", "red", (0.7, 0.1, 0.95, 0.35)),
        SceneObject("tree", "green", (0.4, 0.6, 0.65, 0.85)),
    ))
    text = captions.describe_scene(scene)
    assert text == captions.describe_scene(scene)
    assert text.startswith("two red cars and a green tree on a beach background")
    held = captions.describe_scene(scene, held_out=True)
    assert "automobile" in held and "crimson" in held and "coast" in held
    assert captions.uses_held_out_words(held)
    rng = random.Random(0)
    for _ in range(300):
        s = sample_scene(rng, held_out=None)
        assert captions.uses_held_out_words(captions.describe_scene(s, rng, style="casual")) == []
        for language in captions.LANGUAGES:
            assert captions.describe_foreign(s, language)
    with pytest.raises(ValueError):
        captions.describe_scene(scene, style="poetic")


def test_iptc_no_ai_training_values_reserve_and_unspecified_does_not():
    from imagine.platform.metadata import DMI_UNSPECIFIED, SIGNAL_DMI_NO_AI

    for value in ("DMI-ALLOWED-noaitraining", "DMI-ALLOWED-noaigentraining"):
        packet = xmp_packet(dmi_value=f"http://ns.useplus.org/ldf/vocab/{value}")
        assert read_training_signals(packet) == {SIGNAL_DMI_NO_AI}
    assert read_training_signals(xmp_packet(dmi_value=DMI_UNSPECIFIED)) == frozenset()
