"""Layouts the random scene sampler rarely or never draws, where the scene checker used to fail.

``sample_scene`` draws objects 0.24-0.6 of the image with generous gaps, so the detector never saw a
single object filling most of the picture, objects packed tightly in a row or a column, or groups of
one kind in several colours ("two red cars and a green car"). Prompts ask for all of them ("a big
car", "four stars in a row", "a pair of ivory cars"), so the checker trains on them
(``checker_data.training_scenes``) and is measured on them (``checker_eval.evaluate_layouts``).

Every function takes a ``random.Random`` and returns a valid ``Scene`` (held-out combinations
included: the checker judges benchmark images too).
"""

from __future__ import annotations

import random
from typing import Callable

from imagine.platform.scenes import BACKGROUNDS, COLOURS, KINDS, SIZE_RANGE, SYMMETRIC_KINDS, Scene, SceneObject, _place

# Large single objects: the box's side as a fraction of the image (the sampler stops at 0.6).
LARGE_SIZE = (0.6, 0.96)
# Tight rows: free space between neighbours, and the smallest object side drawn.
ROW_GAP = (0.0, 0.03)
ROW_MIN_SIZE = 0.21  # a row of four fills the image at 0.235


def _upside(rng: random.Random, kind: str) -> bool:
    return kind not in SYMMETRIC_KINDS and rng.random() < 0.1


def _background(rng: random.Random) -> str:
    return rng.choice(tuple(BACKGROUNDS))


def large_object(rng: random.Random) -> Scene:
    """One object whose box side is 0.6-0.96 of the image, anywhere it fits."""
    kind, colour = rng.choice(KINDS), rng.choice(tuple(COLOURS))
    size = round(rng.uniform(*LARGE_SIZE), 3)
    x0, y0 = rng.uniform(0.02, max(0.02, 0.98 - size)), rng.uniform(0.02, max(0.02, 0.98 - size))
    box = (round(x0, 4), round(y0, 4), round(min(1.0, x0 + size), 4), round(min(1.0, y0 + size), 4))
    return Scene(_background(rng), (SceneObject(kind, colour, box, _upside(rng, kind)),))


def _looks_for_row(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """Mostly one kind and colour repeated ("four stars in a row"), sometimes mixed looks."""
    first = (rng.choice(KINDS), rng.choice(tuple(COLOURS)))
    if rng.random() < 0.6:
        return [first] * n
    return [first] + [(rng.choice(KINDS), rng.choice(tuple(COLOURS))) for _ in range(n - 1)]


def tight_row(rng: random.Random, n: int | None = None, *, vertical: bool | None = None) -> Scene:
    """2-4 objects side by side with 0-0.03 of the image between them, in a row (or, sometimes, a column)."""
    n = rng.randint(2, 4) if n is None else n
    vertical = rng.random() < 0.25 if vertical is None else vertical
    gap = rng.uniform(*ROW_GAP)
    biggest = min(0.45, (0.96 - (n - 1) * gap) / n)
    size = rng.uniform(min(ROW_MIN_SIZE, biggest), biggest)
    span = n * size + (n - 1) * gap
    start = rng.uniform(0.02, 0.98 - span)
    across = rng.uniform(0.02, 0.98 - size)
    objects = []
    for i, (kind, colour) in enumerate(_looks_for_row(rng, n)):
        along = start + i * (size + gap)
        jitter = max(0.0, min(0.98 - size, across + rng.uniform(-0.02, 0.02)))
        x0, y0 = (jitter, along) if vertical else (along, jitter)
        box = (round(x0, 4), round(y0, 4), round(x0 + size, 4), round(y0 + size, 4))
        objects.append(SceneObject(kind, colour, box, _upside(rng, kind)))
    return Scene(_background(rng), tuple(objects))


def mixed_colour_group(rng: random.Random) -> Scene:
    """2-4 objects of ONE kind in two or more colours ("two red cars and a green car"), loosely placed."""
    n = rng.randint(2, 4)
    kind = rng.choice(KINDS)
    colours = rng.sample(tuple(COLOURS), 2)
    looks = [colours[0]] * rng.randint(1, n - 1)
    looks += [colours[1]] * (n - len(looks))
    rng.shuffle(looks)
    scene = tight_row(rng, n) if rng.random() < 0.5 else _loose(rng, n)
    objects = tuple(SceneObject(kind, c, o.box, _upside(rng, kind)) for c, o in zip(looks, scene.objects))
    return Scene(scene.background, objects)


def _loose(rng: random.Random, n: int) -> Scene:
    """n objects placed the way ``sample_scene`` places them (non-overlapping, 0.24-0.45 of the image)."""
    lo, hi = SIZE_RANGE[n]
    while (boxes := _place(rng, [round(rng.uniform(lo, hi), 3) for _ in range(n)])) is None:
        pass
    return Scene(_background(rng), tuple(SceneObject("circle", "red", b) for b in boxes))


LAYOUTS: dict[str, Callable[[random.Random], Scene]] = {
    "large object": large_object,
    "tight row of 2": lambda rng: tight_row(rng, 2),
    "tight row of 3": lambda rng: tight_row(rng, 3),
    "tight row of 4": lambda rng: tight_row(rng, 4),
    "colour + count": mixed_colour_group,
}


# Training mix: the small objects of rows of three and four are the hardest, so they are drawn most.
TRAINING_WEIGHTS: dict[str, float] = {"large object": 1.0, "tight row of 2": 0.5, "tight row of 3": 1.0, "tight row of 4": 3.0,
                                      "colour + count": 1.0}


def layout_scene(rng: random.Random) -> Scene:
    """One scene from a layout drawn by ``TRAINING_WEIGHTS`` (the training mix)."""
    name = rng.choices(tuple(TRAINING_WEIGHTS), weights=tuple(TRAINING_WEIGHTS.values()))[0]
    return LAYOUTS[name](rng)
