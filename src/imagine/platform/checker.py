"""Judge whether an image shows a scene, part by part, the way GenEval judges generated images with a detector.

``check_scene(image, scene)`` detects the objects in the image (kind, colour, orientation, centre) and the
background with a small CNN trained on rendered scenes (``checker_train``), then matches the scene record's
objects to detections and gives a verdict for each part: every object present, its colour, every relation
the record implies, the count of each kind, the background. ``.correct`` is True when all of them hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from imagine.platform.scenes import Relation, Scene

HEAT_THRESHOLD = 0.35
# Two peaks closer than this (fraction of the image) are one object and the weaker one is dropped: a wide
# smeared object can raise two peaks, while two objects the checker can read (>= 0.2 of the image, not
# overlapping) have centres at least 0.2 apart.
NMS_RADIUS = 0.16
# A detected relation holds when the centres differ by this much along the named axis, and that axis is not
# clearly the minor one (lenient: generated images place objects loosely).
RELATION_MIN_SHIFT = 0.05
RELATION_AXIS_RATIO = 0.5


@dataclass(frozen=True)
class Detection:
    kind: str
    colour: str
    upside_down: bool
    centre: tuple[float, float]  # normalised, y down
    score: float


@dataclass(frozen=True)
class ObjectVerdict:
    index: int  # position in scene.objects
    kind: str
    colour: str
    present: bool  # a detection of this kind was matched to it
    colour_ok: bool
    orientation_ok: bool
    detection: Detection | None


@dataclass(frozen=True)
class RelationVerdict:
    a: int
    relation: Relation
    b: int
    ok: bool


@dataclass(frozen=True)
class CountVerdict:
    """How many detections of ``kind`` (of ``colour`` too, when it is not None) against how many the scene asks for."""

    kind: str
    expected: int
    found: int
    colour: str | None = None

    @property
    def ok(self) -> bool:
        return self.expected == self.found


@dataclass(frozen=True)
class SceneCheck:
    objects: list[ObjectVerdict]
    relations: list[RelationVerdict]
    counts: list[CountVerdict]
    background_expected: str
    background_found: str
    detections: list[Detection] = field(default_factory=list)

    @property
    def objects_ok(self) -> bool:
        return all(o.present for o in self.objects)

    @property
    def colours_ok(self) -> bool:
        return all(o.present and o.colour_ok for o in self.objects)

    @property
    def relations_ok(self) -> bool:
        return all(r.ok for r in self.relations)

    @property
    def counts_ok(self) -> bool:
        return all(c.ok for c in self.counts)

    @property
    def background_ok(self) -> bool:
        return self.background_expected == self.background_found

    @property
    def orientation_ok(self) -> bool:
        return all(o.present and o.orientation_ok for o in self.objects)

    @property
    def correct(self) -> bool:
        """Every part GenEval-style: objects, colours, relations, counts, background (orientation reported apart)."""
        return self.objects_ok and self.colours_ok and self.relations_ok and self.counts_ok and self.background_ok


class SceneChecker:
    """The detector plus the matching rules; ``load()`` gives the shipped one."""

    def __init__(self, model: "torch.nn.Module") -> None:  # noqa: F821
        self.model = model.eval()
        self.config = model.config

    @classmethod
    def load(cls, path: Path | None = None) -> "SceneChecker":
        import torch
        from safetensors.torch import load_file

        from imagine.platform.checker_model import CheckerConfig, SceneDetector
        from imagine.platform.checker_train import DEFAULT_CHECKER_DIR

        path = Path(path) if path is not None else DEFAULT_CHECKER_DIR
        weights = path / "model.safetensors"
        if not weights.is_file():
            raise FileNotFoundError(f"no scene checker weights at {weights}; train them with `imagine platform train-checker`")
        model = SceneDetector(CheckerConfig.load(path / "config.json"))
        state = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(weights)).items()}
        model.load_state_dict(state)
        return cls(model.to(torch.float32))

    def detect(self, images: Sequence[Image.Image | np.ndarray]) -> list[tuple[list[Detection], str]]:
        """Detections and background for each image (any size, any mode)."""
        import torch
        from torch.nn import functional as F

        from imagine.platform.checker_data import to_input

        size = self.config.input_size
        arrays = [
            img if isinstance(img, np.ndarray) and img.shape == (size, size, 3) and img.dtype == np.uint8
            else to_input(Image.fromarray(img) if isinstance(img, np.ndarray) else img, size)
            for img in images
        ]
        batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float().div(255)
        with torch.inference_mode():
            out = self.model(batch)
        heat = torch.sigmoid(out["heat"])
        peaks = (heat == F.max_pool2d(heat.unsqueeze(1), 3, stride=1, padding=1).squeeze(1)) & (heat >= HEAT_THRESHOLD)
        grid = heat.shape[-1]
        results = []
        for n in range(len(arrays)):
            found = []
            for y, x in peaks[n].nonzero().tolist():
                ox, oy = out["offset"][n, :, y, x].tolist()
                found.append(
                    Detection(
                        kind=self.config.kinds[int(out["kind"][n, :, y, x].argmax())],
                        colour=self.config.colours[int(out["colour"][n, :, y, x].argmax())],
                        upside_down=bool(out["upside_down"][n, y, x] > 0),
                        centre=((x + ox) / grid, (y + oy) / grid),
                        score=float(heat[n, y, x]),
                    )
                )
            found.sort(key=lambda d: -d.score)
            kept: list[Detection] = []
            for d in found:
                if all(np.hypot(d.centre[0] - k.centre[0], d.centre[1] - k.centre[1]) >= NMS_RADIUS for k in kept):
                    kept.append(d)
            results.append((kept, self.config.backgrounds[int(out["background"][n].argmax())]))
        return results

    def check(self, image: Image.Image | np.ndarray, scene: Scene) -> SceneCheck:
        return self.check_many([image], [scene])[0]

    def check_many(self, images: Sequence[Image.Image | np.ndarray], scenes: Sequence[Scene]) -> list[SceneCheck]:
        if len(images) != len(scenes):
            raise ValueError(f"{len(images)} images but {len(scenes)} scenes")
        return [judge(scene, dets, bg) for scene, (dets, bg) in zip(scenes, self.detect(images))]


def _assign(scene: Scene, detections: list[Detection]) -> dict[int, Detection]:
    """Scene object -> detection of the same kind, preferring the same colour, then the nearest centre."""
    from scipy.optimize import linear_sum_assignment

    if not detections:
        return {}
    impossible = 1e6
    cost = np.full((len(scene.objects), len(detections)), impossible)
    for i, o in enumerate(scene.objects):
        for j, d in enumerate(detections):
            if d.kind == o.kind:
                cx, cy = o.centre
                cost[i, j] = (d.colour != o.colour) * 2.0 + 0.5 * np.hypot(cx - d.centre[0], cy - d.centre[1])
    rows, cols = linear_sum_assignment(cost)
    return {int(i): detections[j] for i, j in zip(rows, cols) if cost[i, j] < impossible}


def relation_holds(a: tuple[float, float], relation: Relation, b: tuple[float, float]) -> bool:
    """Whether centre ``a`` is ``relation`` centre ``b`` (leniently: see RELATION_MIN_SHIFT)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    along, across = {"left of": (dx, dy), "right of": (-dx, dy), "above": (dy, dx), "below": (-dy, dx)}[relation]
    return along >= RELATION_MIN_SHIFT and along >= RELATION_AXIS_RATIO * abs(across)


def judge(scene: Scene, detections: list[Detection], background: str) -> SceneCheck:
    """The verdicts for ``scene`` given what the detector found."""
    matched = _assign(scene, detections)
    objects = [
        ObjectVerdict(
            index=i,
            kind=o.kind,
            colour=o.colour,
            present=i in matched,
            colour_ok=i in matched and matched[i].colour == o.colour,
            orientation_ok=i in matched and matched[i].upside_down == o.upside_down,
            detection=matched.get(i),
        )
        for i, o in enumerate(scene.objects)
    ]
    relations = [
        RelationVerdict(a, rel, b, a in matched and b in matched and relation_holds(matched[a].centre, rel, matched[b].centre))
        for a, rel, b in scene.relations()
    ]
    return SceneCheck(objects, relations, count_verdicts(scene, detections), scene.background, background, detections)


def count_verdicts(scene: Scene, detections: list[Detection]) -> list[CountVerdict]:
    """Per kind: all detections of the kind; per (kind, colour) the scene asks for: detections of that colour.

    Both must match, so "a pair of white cars" fails with two green cars (colour) and with two white cars
    plus a green one (a third car), as in GenEval's counting with attributes.
    """
    kinds = sorted({o.kind for o in scene.objects})
    looks = sorted({(o.kind, o.colour) for o in scene.objects})
    counts = [CountVerdict(k, sum(o.kind == k for o in scene.objects), sum(d.kind == k for d in detections)) for k in kinds]
    counts += [
        CountVerdict(k, sum((o.kind, o.colour) == (k, c) for o in scene.objects),
                     sum((d.kind, d.colour) == (k, c) for d in detections), colour=c)
        for k, c in looks
    ]
    return counts


@lru_cache(maxsize=4)
def _checker(path: Path | None) -> SceneChecker:
    return SceneChecker.load(path)


def check_scene(image: Image.Image | np.ndarray, scene: Scene, *, checker_dir: Path | None = None) -> SceneCheck:
    """Judge ``image`` against ``scene`` with the shipped checker (or the one in ``checker_dir``)."""
    return _checker(checker_dir).check(image, scene)


__all__ = ["Detection", "ObjectVerdict", "RelationVerdict", "CountVerdict", "SceneCheck", "SceneChecker", "check_scene", "count_verdicts", "judge"]
