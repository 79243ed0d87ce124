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
from imagine.platform.scenes import BACKGROUNDS, COLOURS, KINDS, Scene, sample_scene

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


def render_for_checker(scene: Scene, rng: random.Random, *, augment: bool = True) -> Image.Image:
    """A scene as the checker may meet it: rendered at 32-128 px, any aspect, then brought to 32x32."""
    size = rng.choice((32, 32, 32, 48, 64, 64, 96, 128))
    width, height = size, size
    if augment and rng.random() < 0.2:
        height = max(32, round(size * rng.uniform(0.6, 1.6)))
    image = render_scene(scene, width, height)
    if (width, height) != (INPUT_SIZE, INPUT_SIZE):
        image = Image.fromarray(to_input(image))
    return degrade(image, rng) if augment else image


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


def make_batch(scenes: list[Scene], rng: random.Random, *, augment: bool = True) -> dict[str, np.ndarray]:
    """Images (N, 32, 32, 3) uint8 and stacked targets for a list of scenes."""
    images = [to_input(render_for_checker(s, rng, augment=augment)) for s in scenes]
    targets = [targets_for(s) for s in scenes]
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
