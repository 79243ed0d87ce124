"""Scene records: the ground truth behind every demo photo and every compositional prompt.

A scene is a background plus 1-4 objects. Each object has a kind (drawn as a simple vector
icon), a colour, a box in normalised image coordinates and an orientation. Spatial relations
are *derived* from the boxes, never stored, so a record cannot contradict itself.

Held-out combinations: some (colour, kind) pairs and some (kind, relation, kind) triples are
never produced by the demo platform, so the compositional benchmark can ask for combinations
the model has never seen together in training (see ``is_held_out``).
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from typing import Iterable, Literal

KINDS: tuple[str, ...] = ("circle", "square", "triangle", "star", "heart", "house", "tree", "car")

# Saturated, well-separated colours: the checker must tell them apart at 32 px.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "orange": (255, 140, 0),
    "yellow": (250, 220, 20),
    "green": (30, 170, 50),
    "blue": (30, 80, 230),
    "purple": (140, 50, 200),
    "pink": (255, 105, 180),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
    "brown": (130, 80, 30),
}

# Each background is a vertical gradient (top colour, bottom colour).
BACKGROUNDS: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "sky": ((120, 190, 250), (190, 225, 255)),
    "night": ((10, 15, 45), (35, 40, 80)),
    "grass": ((150, 205, 110), (90, 160, 60)),
    "beach": ((200, 230, 250), (235, 210, 150)),
    "snow": ((225, 230, 240), (250, 250, 252)),
    "desert": ((240, 200, 140), (215, 165, 100)),
}

Relation = Literal["left of", "right of", "above", "below"]
RELATIONS: tuple[Relation, ...] = ("left of", "right of", "above", "below")

# One held-out colour per kind: these pairs never appear in the demo corpus.
HELD_OUT_COLOUR_KIND: frozenset[tuple[str, str]] = frozenset(
    {
        ("blue", "circle"),
        ("red", "square"),
        ("green", "triangle"),
        ("purple", "star"),
        ("yellow", "heart"),
        ("pink", "house"),
        ("orange", "tree"),
        ("white", "car"),
    }
)

# Held-out ordered spatial pairs: "<kind a> <relation> <kind b>" never seen in training.
HELD_OUT_RELATIONS: frozenset[tuple[str, str, str]] = frozenset(
    {
        ("car", "left of", "tree"),
        ("tree", "right of", "car"),
        ("star", "above", "house"),
        ("house", "below", "star"),
        ("heart", "left of", "circle"),
        ("circle", "right of", "heart"),
        ("triangle", "above", "square"),
        ("square", "below", "triangle"),
    }
)


@dataclass(frozen=True)
class SceneObject:
    """One object: ``box`` is (x0, y0, x1, y1) in [0, 1], y growing downwards."""

    kind: str
    colour: str
    box: tuple[float, float, float, float]
    upside_down: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown object kind {self.kind!r}; known: {', '.join(KINDS)}")
        if self.colour not in COLOURS:
            raise ValueError(f"unknown colour {self.colour!r}; known: {', '.join(COLOURS)}")
        x0, y0, x1, y1 = self.box
        if not (0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0):
            raise ValueError(f"box {self.box} is not inside the unit square")

    @property
    def centre(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        return ((x0 + x1) / 2, (y0 + y1) / 2)

    @property
    def size(self) -> float:
        """Side of the box's larger dimension, as a fraction of the image."""
        x0, y0, x1, y1 = self.box
        return max(x1 - x0, y1 - y0)


@dataclass(frozen=True)
class Scene:
    background: str
    objects: tuple[SceneObject, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.background not in BACKGROUNDS:
            raise ValueError(f"unknown background {self.background!r}; known: {', '.join(BACKGROUNDS)}")
        if not 1 <= len(self.objects) <= 4:
            raise ValueError(f"a scene has 1-4 objects, got {len(self.objects)}")

    def to_dict(self) -> dict:
        return {"background": self.background, "objects": [asdict(o) | {"box": list(o.box)} for o in self.objects]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict) -> "Scene":
        objects = tuple(
            SceneObject(kind=o["kind"], colour=o["colour"], box=tuple(o["box"]), upside_down=bool(o.get("upside_down", False)))
            for o in data["objects"]
        )
        return cls(background=data["background"], objects=objects)

    @classmethod
    def from_json(cls, text: str) -> "Scene":
        return cls.from_dict(json.loads(text))

    def relations(self) -> list[tuple[int, Relation, int]]:
        """Every clear pairwise relation (index a, relation, index b) between distinct objects."""
        found: list[tuple[int, Relation, int]] = []
        for i, a in enumerate(self.objects):
            for j, b in enumerate(self.objects):
                if i != j:
                    rel = relation_between(a, b)
                    if rel is not None:
                        found.append((i, rel, j))
        return found


# Centres must differ by at least this much (fraction of the image) for a relation to count.
RELATION_MARGIN = 0.15


def relation_between(a: SceneObject, b: SceneObject) -> Relation | None:
    """The dominant relation of ``a`` to ``b`` (``a`` is *left of* ``b``), or None when ambiguous."""
    (ax, ay), (bx, by) = a.centre, b.centre
    dx, dy = bx - ax, by - ay
    if max(abs(dx), abs(dy)) < RELATION_MARGIN:
        return None
    if abs(dx) >= abs(dy):
        return "left of" if dx > 0 else "right of"
    return "above" if dy > 0 else "below"


def is_held_out(scene: Scene) -> bool:
    """True when the scene contains a combination that the demo corpus never shows."""
    if any((o.colour, o.kind) in HELD_OUT_COLOUR_KIND for o in scene.objects):
        return True
    for i, rel, j in scene.relations():
        if (scene.objects[i].kind, rel, scene.objects[j].kind) in HELD_OUT_RELATIONS:
            return True
    return False


def colour_kind_pairs(scenes: Iterable[Scene]) -> set[tuple[str, str]]:
    return {(o.colour, o.kind) for s in scenes for o in s.objects}


# Kinds whose icon looks the same upside down: never marked upside_down.
SYMMETRIC_KINDS: frozenset[str] = frozenset({"circle", "square"})
# Object size (larger box side, fraction of the image) by number of objects: big enough to read at 32 px.
SIZE_RANGE: dict[int, tuple[float, float]] = {1: (0.35, 0.6), 2: (0.28, 0.45), 3: (0.25, 0.38), 4: (0.24, 0.34)}
OBJECT_COUNT_WEIGHTS: tuple[int, ...] = (3, 3, 3, 2)  # weights of 1, 2, 3, 4 objects
GROUP_PROBABILITY = 0.3  # chance that a multi-object scene repeats one kind+colour ("three red stars")
UPSIDE_DOWN_PROBABILITY = 0.1
GAP = 0.03  # minimum free space between two boxes


def _boxes_apart(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[2] + GAP <= b[0] or b[2] + GAP <= a[0] or a[3] + GAP <= b[1] or b[3] + GAP <= a[1]


def _place(rng: random.Random, sizes: list[float]) -> list[tuple[float, float, float, float]] | None:
    """Non-overlapping square boxes of the given sizes, or None when this draw did not fit."""
    boxes: list[tuple[float, float, float, float]] = []
    for s in sizes:
        for _ in range(60):
            x0, y0 = rng.uniform(0.02, 0.98 - s), rng.uniform(0.02, 0.98 - s)
            box = (round(x0, 4), round(y0, 4), round(x0 + s, 4), round(y0 + s, 4))
            if all(_boxes_apart(box, other) for other in boxes):
                boxes.append(box)
                break
        else:
            return None
    return boxes


def _draw_scene(rng: random.Random) -> Scene:
    n = rng.choices((1, 2, 3, 4), weights=OBJECT_COUNT_WEIGHTS)[0]
    looks = [(rng.choice(KINDS), rng.choice(tuple(COLOURS))) for _ in range(n)]
    if n >= 2 and rng.random() < GROUP_PROBABILITY:
        k = rng.randint(2, n)
        looks[:k] = [looks[0]] * k
    lo, hi = SIZE_RANGE[n]
    while True:
        boxes = _place(rng, [round(rng.uniform(lo, hi), 3) for _ in range(n)])
        if boxes is not None:
            break
    objects = tuple(
        SceneObject(
            kind=kind,
            colour=colour,
            box=box,
            upside_down=kind not in SYMMETRIC_KINDS and rng.random() < UPSIDE_DOWN_PROBABILITY,
        )
        for (kind, colour), box in zip(looks, boxes)
    )
    return Scene(background=rng.choice(tuple(BACKGROUNDS)), objects=objects)


def sample_scene(rng: random.Random, *, held_out: bool | None = False) -> Scene:
    """A random scene: 1-4 objects, non-overlapping boxes, sometimes a counted group.

    ``held_out=False`` never returns a held-out combination (the demo corpus), ``True`` always
    does (the compositional benchmark), ``None`` returns either.
    """
    while True:
        scene = _draw_scene(rng)
        if held_out is None or is_held_out(scene) == held_out:
            return scene


def groups(scene: Scene) -> dict[tuple[str, str], int]:
    """How many objects share each (kind, colour): ``{("star", "red"): 3}`` for three red stars."""
    counts: dict[tuple[str, str], int] = {}
    for o in scene.objects:
        counts[(o.kind, o.colour)] = counts.get((o.kind, o.colour), 0) + 1
    return counts
