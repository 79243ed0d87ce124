"""Draw a scene record as an image at any size: the demo platform's photos and the checker's training data.

Icons are polygons in a unit box (y down), drawn on a supersampled canvas and reduced with a box
filter, so edges are anti-aliased even at 32 px. Every icon gets an outline in a shade of its own
colour, so a white object stays visible on snow and a black one at night.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw

from imagine.platform.scenes import BACKGROUNDS, COLOURS, Scene, SceneObject

Point = tuple[float, float]
RGB = tuple[int, int, int]
# A part of an icon: polygon points in the unit box, and whether it is drawn in the "detail" shade.
Part = tuple[list[Point], bool]

WHEEL: RGB = (45, 45, 45)


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 40) -> list[Point]:
    return [(cx + rx * math.cos(2 * math.pi * k / n), cy + ry * math.sin(2 * math.pi * k / n)) for k in range(n)]


def _circle() -> list[Part]:
    return [(_ellipse(0.5, 0.5, 0.48, 0.48), False)]


def _square() -> list[Part]:
    return [([(0.06, 0.06), (0.94, 0.06), (0.94, 0.94), (0.06, 0.94)], False)]


def _triangle() -> list[Part]:
    return [([(0.5, 0.04), (0.96, 0.94), (0.04, 0.94)], False)]


def _star() -> list[Part]:
    points = []
    for k in range(10):
        r = 0.5 if k % 2 == 0 else 0.21
        a = -math.pi / 2 + k * math.pi / 5
        points.append((0.5 + r * math.cos(a), 0.54 + r * math.sin(a)))
    return [(points, False)]


def _heart() -> list[Part]:
    raw = []
    for k in range(48):
        t = 2 * math.pi * k / 48
        raw.append((16 * math.sin(t) ** 3, -(13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t))))
    xs, ys = [p[0] for p in raw], [p[1] for p in raw]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    return [([(0.03 + 0.94 * (x - x0) / (x1 - x0), 0.05 + 0.9 * (y - y0) / (y1 - y0)) for x, y in raw], False)]


def _house() -> list[Part]:
    body = [(0.5, 0.04), (0.97, 0.46), (0.86, 0.46), (0.86, 0.96), (0.14, 0.96), (0.14, 0.46), (0.03, 0.46)]
    door = [(0.42, 0.64), (0.58, 0.64), (0.58, 0.96), (0.42, 0.96)]
    return [(body, False), (door, True)]


def _tree() -> list[Part]:
    trunk = [(0.39, 0.66), (0.61, 0.66), (0.61, 0.98), (0.39, 0.98)]
    canopy = [(0.5, 0.02), (0.8, 0.36), (0.68, 0.36), (0.95, 0.72), (0.05, 0.72), (0.32, 0.36), (0.2, 0.36)]
    return [(trunk, True), (canopy, False)]


def _car() -> list[Part]:
    body = [(0.02, 0.48), (0.24, 0.46), (0.34, 0.2), (0.68, 0.2), (0.8, 0.46), (0.98, 0.52), (0.98, 0.8), (0.02, 0.8)]
    return [(body, False), (_ellipse(0.26, 0.8, 0.13, 0.14, 20), True), (_ellipse(0.74, 0.8, 0.13, 0.14, 20), True)]


ICONS: dict[str, Callable[[], list[Part]]] = {
    "circle": _circle,
    "square": _square,
    "triangle": _triangle,
    "star": _star,
    "heart": _heart,
    "house": _house,
    "tree": _tree,
    "car": _car,
}


def shades(colour: str) -> tuple[RGB, RGB]:
    """(outline, detail) shades of a colour: darker for light colours, lighter grey for black."""
    r, g, b = COLOURS[colour]
    if max(r, g, b) < 60:
        return (110, 110, 110), (80, 80, 80)
    return (int(r * 0.5), int(g * 0.5), int(b * 0.5)), (int(r * 0.62), int(g * 0.62), int(b * 0.62))


def gradient(background: str, width: int, height: int) -> np.ndarray:
    """The background as a (height, width, 3) uint8 vertical gradient."""
    top, bottom = (np.array(c, dtype=np.float32) for c in BACKGROUNDS[background])
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    column = np.rint(top[None, :] * (1 - t) + bottom[None, :] * t).astype(np.uint8)
    return np.ascontiguousarray(np.broadcast_to(column[:, None, :], (height, width, 3)))


def _draw_object(draw: ImageDraw.ImageDraw, obj: SceneObject, width: int, height: int) -> None:
    x0, y0, x1, y1 = obj.box
    bw, bh = (x1 - x0) * width, (y1 - y0) * height
    outline, detail = shades(obj.colour)
    line = max(1, round(0.06 * min(bw, bh)))

    def to_canvas(p: Point) -> Point:
        px, py = p
        if obj.upside_down:
            py = 1.0 - py
        return (x0 * width + px * bw, y0 * height + py * bh)

    for points, is_detail in ICONS[obj.kind]():
        fill = WHEEL if is_detail and obj.kind == "car" else (detail if is_detail else COLOURS[obj.colour])
        draw.polygon([to_canvas(p) for p in points], fill=fill, outline=outline, width=line)


def render_scene(scene: Scene, width: int, height: int | None = None, *, supersample: int | None = None) -> Image.Image:
    """An RGB image of ``scene`` at ``width`` x ``height`` (square when height is None)."""
    height = width if height is None else height
    if width < 8 or height < 8:
        raise ValueError(f"image size {width}x{height} is too small to draw a scene (min 8x8)")
    # Supersampling factor: 4 up to 128 px (the checker's and the models' sizes), 2 above (edges stay smooth,
    # drawing stays fast for the demo corpus's larger photos).
    factor = supersample or (4 if max(width, height) <= 128 else 2)
    big_w, big_h = width * factor, height * factor
    canvas = Image.fromarray(gradient(scene.background, big_w, big_h), "RGB")
    draw = ImageDraw.Draw(canvas)
    for obj in scene.objects:
        _draw_object(draw, obj, big_w, big_h)
    return canvas.resize((width, height), Image.Resampling.BOX)
