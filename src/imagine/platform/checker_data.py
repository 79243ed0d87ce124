"""Training and evaluation data for the scene checker: rendered scenes, degraded like generated images.

Every sample is a random scene (held-out combinations included: the checker judges benchmark images too)
rendered at some size, reduced to the checker's 32x32 input, then blurred / noised / JPEG-compressed /
colour-shifted at random, with targets on the detector's 16x16 grid.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from imagine.platform.checker_layouts import layout_scene
from imagine.platform.checker_model import GRID, INPUT_SIZE
from imagine.platform.render import render_scene
from imagine.platform.scenes import BACKGROUNDS, COLOURS, KINDS, Scene, SceneObject, sample_scene

KIND_INDEX = {k: i for i, k in enumerate(KINDS)}
COLOUR_INDEX = {c: i for i, c in enumerate(COLOURS)}
BACKGROUND_INDEX = {b: i for i, b in enumerate(BACKGROUNDS)}
IGNORE = -100  # target for cells that belong to no object


def to_input(image: Image.Image, size: int = INPUT_SIZE) -> np.ndarray:
    """Any image -> the checker's (size, size, 3) uint8 input: RGB, squashed to a square, area-averaged."""
    image = image.convert("RGB")
    if image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.BOX if min(image.size) >= size else Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.uint8)


def degrade(image: Image.Image, rng: random.Random) -> Image.Image:
    """Blur, noise, JPEG and colour shifts of the kind a small generator's output shows."""
    if rng.random() < 0.4:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 0.9)))
    arr = np.asarray(image, dtype=np.float32)
    if rng.random() < 0.5:
        gain = np.array([rng.uniform(0.94, 1.06) for _ in range(3)], dtype=np.float32) * rng.uniform(0.92, 1.08)
        arr = (arr - 128) * rng.uniform(0.9, 1.1) + 128
        arr = arr * gain + rng.uniform(-8, 8)
    if rng.random() < 0.4:
        noise = np.random.default_rng(rng.getrandbits(32)).normal(0, rng.uniform(2, 12), arr.shape)
        arr = arr + noise.astype(np.float32)
    image = Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "RGB")
    if rng.random() < 0.2:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=rng.randint(40, 90))
        image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    return image


def render_for_checker(scene: Scene, rng: random.Random, *, augment: bool = True, geometry: float = 0.0) -> tuple[Image.Image, Scene]:
    """A scene as the checker may meet it: rendered at 32-128 px, any aspect, then brought to 32x32.

    With probability ``geometry`` each of two shape changes that generated images show and renders do not:
    a crop that cuts objects at the border (the returned scene then holds the visible parts) and a smooth
    random warp that bends straight edges and rounds corners.
    """
    size = rng.choice((32, 32, 32, 48, 64, 64, 96, 128))
    width, height = size, size
    if augment and rng.random() < 0.2:
        height = max(32, round(size * rng.uniform(0.6, 1.6)))
    if geometry > 0 and rng.random() < geometry:
        image, scene = crop_view(scene, width, height, rng)
    else:
        image = render_scene(scene, width, height)
    if (width, height) != (INPUT_SIZE, INPUT_SIZE):
        image = Image.fromarray(to_input(image))
    if geometry > 0 and rng.random() < geometry:
        image = warp(image, rng)
    if geometry > 0 and min(o.size for o in scene.objects) >= SOFTEN_MIN_SIZE and rng.random() < geometry:
        image = soften(image, rng)
    return (degrade(image, rng) if augment else image), scene


# Softening erases objects smaller than this (fraction of the image): they would teach noise.
SOFTEN_MIN_SIZE = 0.28


def soften(image: Image.Image, rng: random.Random) -> Image.Image:
    """Lose detail and keep crisp edges, as a small generator does: down to 14-22 px, back up, sharpened."""
    small = rng.randint(14, 22)
    size = image.size
    image = image.resize((small, small), Image.Resampling.BOX).resize(size, Image.Resampling.BICUBIC)
    return image.filter(ImageFilter.UnsharpMask(radius=rng.uniform(0.8, 2.0), percent=rng.randint(80, 200), threshold=0))


# A cropped object stays a target when at least this share of its box is inside the view.
CROP_VISIBLE = 0.45


def crop_view(scene: Scene, width: int, height: int, rng: random.Random) -> tuple[Image.Image, Scene]:
    """Render ``scene`` 1.1-1.5x larger and cut a ``width`` x ``height`` view from it; boxes clipped to the view.

    Objects less than ``CROP_VISIBLE`` inside are dropped from the scene (slivers are not objects); if none is
    left the uncropped render is returned.
    """
    zoom = rng.uniform(1.1, 1.5)
    big_w, big_h = round(width * zoom), round(height * zoom)
    left, top = rng.randint(0, big_w - width), rng.randint(0, big_h - height)
    view = (left / big_w, top / big_h, (left + width) / big_w, (top + height) / big_h)
    kept = []
    for o in scene.objects:
        x0, y0, x1, y1 = max(o.box[0], view[0]), max(o.box[1], view[1]), min(o.box[2], view[2]), min(o.box[3], view[3])
        area = (o.box[2] - o.box[0]) * (o.box[3] - o.box[1])
        if x1 <= x0 or y1 <= y0 or (x1 - x0) * (y1 - y0) < CROP_VISIBLE * area:
            continue
        sx, sy = view[2] - view[0], view[3] - view[1]
        box = tuple(min(1.0, max(0.0, round(v, 4))) for v in ((x0 - view[0]) / sx, (y0 - view[1]) / sy, (x1 - view[0]) / sx, (y1 - view[1]) / sy))
        if box[0] < box[2] and box[1] < box[3]:
            kept.append(SceneObject(o.kind, o.colour, box, o.upside_down))
    if not kept:
        return render_scene(scene, width, height), scene
    image = render_scene(scene, big_w, big_h).crop((left, top, left + width, top + height))
    return image, Scene(scene.background, tuple(kept))


def warp(image: Image.Image, rng: random.Random, *, strength: tuple[float, float] = (0.4, 1.3)) -> Image.Image:
    """A smooth random displacement of up to ``strength`` pixels (at 32 px): wobbly edges, rounder corners.

    Centres move by less than a grid cell, so the targets stay where they were.
    """
    from scipy.ndimage import map_coordinates, zoom

    arr = np.asarray(image.convert("RGB"), dtype=np.float32)
    h, w = arr.shape[:2]
    g = np.random.default_rng(rng.getrandbits(32))
    amplitude = rng.uniform(*strength) * w / INPUT_SIZE
    coarse = g.normal(0, 1, (2, 4, 4)).astype(np.float32)
    field = np.stack([zoom(c, (h / 4, w / 4), order=3)[:h, :w] for c in coarse]) * amplitude / 2
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    coords = [ys + field[0], xs + field[1]]
    out = np.stack([map_coordinates(arr[..., c], coords, order=1, mode="nearest") for c in range(3)], axis=-1)
    return Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8), "RGB")


@dataclass
class Targets:
    heat: np.ndarray  # (G, G) float32, 1 at object centres
    kind: np.ndarray  # (G, G) int64, IGNORE away from objects
    colour: np.ndarray  # (G, G) int64
    upside_down: np.ndarray  # (G, G) float32, -1 away from objects
    offset: np.ndarray  # (2, G, G) float32, sub-cell centre position at centre cells
    centre_mask: np.ndarray  # (G, G) bool
    background: int


def targets_for(scene: Scene, grid: int = GRID) -> Targets:
    heat = np.zeros((grid, grid), np.float32)
    owner = np.full((grid, grid), -1, np.int64)
    best = np.zeros((grid, grid), np.float32)
    offset = np.zeros((2, grid, grid), np.float32)
    centre = np.zeros((grid, grid), bool)
    ys, xs = np.mgrid[0:grid, 0:grid].astype(np.float32) + 0.5
    for n, o in enumerate(scene.objects):
        cx, cy = o.centre[0] * grid, o.centre[1] * grid
        sigma = max(0.6, o.size * grid / 6)
        g = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma**2)).astype(np.float32)
        ix, iy = min(grid - 1, int(cx)), min(grid - 1, int(cy))
        g[iy, ix] = 1.0
        heat = np.maximum(heat, g)
        take = (g >= 0.45) & (g > best)
        owner[take], best[take] = n, g[take]
        offset[:, iy, ix] = (cx - ix, cy - iy)
        centre[iy, ix] = True
    kind = np.full((grid, grid), IGNORE, np.int64)
    colour = np.full((grid, grid), IGNORE, np.int64)
    upside = np.full((grid, grid), -1.0, np.float32)
    for n, o in enumerate(scene.objects):
        cells = owner == n
        kind[cells], colour[cells], upside[cells] = KIND_INDEX[o.kind], COLOUR_INDEX[o.colour], float(o.upside_down)
    return Targets(heat, kind, colour, upside, offset, centre, BACKGROUND_INDEX[scene.background])


def make_batch(scenes: list[Scene], rng: random.Random, *, augment: bool = True, geometry: float = 0.0) -> dict[str, np.ndarray]:
    """Images (N, 32, 32, 3) uint8 and stacked targets for a list of scenes (``geometry``: see ``render_for_checker``)."""
    rendered = [render_for_checker(s, rng, augment=augment, geometry=geometry) for s in scenes]
    images = [to_input(image) for image, _ in rendered]
    targets = [targets_for(shown) for _, shown in rendered]
    return {
        "images": np.stack(images),
        "heat": np.stack([t.heat for t in targets]),
        "kind": np.stack([t.kind for t in targets]),
        "colour": np.stack([t.colour for t in targets]),
        "upside_down": np.stack([t.upside_down for t in targets]),
        "offset": np.stack([t.offset for t in targets]),
        "centre_mask": np.stack([t.centre_mask for t in targets]),
        "background": np.array([t.background for t in targets], np.int64),
    }


def random_scenes(n: int, seed: int) -> list[Scene]:
    rng = random.Random(seed)
    return [sample_scene(rng, held_out=None) for _ in range(n)]


def training_scenes(n: int, seed: int, *, layouts: float = 0.0) -> list[Scene]:
    """``n`` scenes: a share ``layouts`` from the hard layouts (``checker_layouts``), the rest from ``sample_scene``."""
    if not 0.0 <= layouts <= 1.0:
        raise ValueError(f"layouts must be a fraction in [0, 1], got {layouts}")
    rng = random.Random(seed)
    return [layout_scene(rng) if rng.random() < layouts else sample_scene(rng, held_out=None) for _ in range(n)]
