"""Scene sampling and rendering: held-out rules, layout, anti-aliased icons at any size."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from imagine.platform.render import gradient, render_scene
from imagine.platform.scenes import KINDS, Scene, SceneObject, groups, is_held_out, sample_scene


def test_sample_scene_respects_held_out_and_layout():
    rng = random.Random(3)
    scenes = [sample_scene(rng) for _ in range(1500)]
    assert not any(is_held_out(s) for s in scenes)
    assert all(is_held_out(sample_scene(rng, held_out=True)) for _ in range(300))
    both = [is_held_out(sample_scene(rng, held_out=None)) for _ in range(400)]
    assert any(both) and not all(both)
    assert Counter(len(s.objects) for s in scenes).keys() == {1, 2, 3, 4}
    assert {o.kind for s in scenes for o in s.objects} == set(KINDS)
    counted = [n for s in scenes for n in groups(s).values() if n >= 2]
    assert 3 in counted and 2 in counted, "counts like 'three red stars' occur"
    assert any(o.upside_down for s in scenes for o in s.objects)
    for s in scenes:
        boxes = [o.box for o in s.objects]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], "boxes overlap"


def test_sample_scene_is_deterministic_and_round_trips():
    a = [sample_scene(random.Random(11)) for _ in range(3)]
    b = [sample_scene(random.Random(11)) for _ in range(3)]
    assert a == b
    assert all(Scene.from_json(s.to_json()) == s for s in a)


@pytest.mark.parametrize("size", [(32, 32), (64, 48), (100, 300), (320, 180)])
def test_render_any_size(size):
    scene = sample_scene(random.Random(sum(size)))
    image = render_scene(scene, *size)
    assert image.mode == "RGB" and image.size == size
    assert render_scene(scene, *size).tobytes() == image.tobytes()


def test_render_is_antialiased_and_upside_down_flips():
    box = (0.25, 0.25, 0.75, 0.75)
    upright = Scene("snow", (SceneObject("triangle", "red", box),))
    flipped = Scene("snow", (SceneObject("triangle", "red", box, upside_down=True),))
    bg = gradient("snow", 64, 64).astype(np.int16)

    def mask(scene):
        return np.abs(np.asarray(render_scene(scene, 64), np.int16) - bg).sum(-1) > 60

    a, b = mask(upright), mask(flipped)
    assert (a & np.flipud(b)).sum() / (a | np.flipud(b)).sum() > 0.9
    assert (a & b).sum() / (a | b).sum() < 0.7
    # Edges hold intermediate colours (supersampled), not just the fill and the background.
    colours = {tuple(p) for p in np.asarray(render_scene(upright, 32)).reshape(-1, 3)}
    assert len(colours) > 40


def test_bad_scene_records_are_rejected():
    with pytest.raises(ValueError):
        SceneObject("dragon", "red", (0.1, 0.1, 0.3, 0.3))
    with pytest.raises(ValueError):
        Scene("mars", (SceneObject("star", "red", (0.1, 0.1, 0.3, 0.3)),))
    with pytest.raises(ValueError):
        render_scene(sample_scene(random.Random(0)), 4)
