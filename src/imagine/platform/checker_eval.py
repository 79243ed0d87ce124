"""How far the scene checker can be trusted: per-attribute accuracy and false-positive rates.

Accuracy: scenes the checker never trained on (another seed), rendered cleanly at 32, 64 and 128 px and,
at 32 px, degraded like generated images; every verdict on a true pair should be "right".
False positives: the same images judged against records they do not show, either another random scene or
the true scene with one part changed (colour, kind, background, or two objects swapped); "correct" is wrong.
Hard layouts (``checker_layouts``: large objects, tight rows of 2-4, one kind in several colours): the share
of true renders judged right on every part, at each size, and how often a recoloured group still passes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

from imagine.platform.checker import SceneCheck, SceneChecker
from imagine.platform.checker_data import degrade, to_input
from imagine.platform.checker_layouts import LAYOUTS
from imagine.platform.render import render_scene
from imagine.platform.scenes import BACKGROUNDS, COLOURS, KINDS, Scene, sample_scene

EVAL_SEED = 1_000_003  # far from the training seeds
ATTRIBUTES = ("object", "colour", "relation", "count", "background", "orientation", "scene")


@dataclass
class CheckerReport:
    scenes: int
    accuracy: dict[str, dict[str, float]] = field(default_factory=dict)  # condition -> attribute -> accuracy
    false_positive: dict[str, float] = field(default_factory=dict)  # kind of wrong record -> rate judged correct
    layouts: dict[str, dict[str, float]] = field(default_factory=dict)  # hard layout -> condition -> scene accuracy

    @property
    def layout_accuracy(self) -> float:
        """Every verdict right, over all hard layouts and sizes (each layout and size weighs the same)."""
        values = [v for by_size in self.layouts.values() for v in by_size.values()]
        return sum(values) / len(values) if values else float("nan")

    def lines(self) -> list[str]:
        head = "| condition | " + " | ".join(ATTRIBUTES) + " |"
        rows = [head, "|" + "---|" * (len(ATTRIBUTES) + 1)]
        for condition, acc in self.accuracy.items():
            rows.append(f"| {condition} | " + " | ".join(f"{acc[a]:.3f}" for a in ATTRIBUTES) + " |")
        rows.append("")
        rows.append("| wrong record | judged correct (false positive) |")
        rows.append("|---|---|")
        rows += [f"| {k} | {v:.3f} |" for k, v in self.false_positive.items()]
        if self.layouts:
            conditions = list(next(iter(self.layouts.values())))
            rows += ["", "| hard layout (true renders, all parts right) | " + " | ".join(conditions) + " |",
                     "|" + "---|" * (len(conditions) + 1)]
            rows += [f"| {name} | " + " | ".join(f"{by[c]:.3f}" for c in conditions) + " |" for name, by in self.layouts.items()]
            rows.append(f"| **all hard layouts** | **{self.layout_accuracy:.3f}** |" + " |" * (len(conditions) - 1))
        return rows


def attribute_accuracy(checks: list[SceneCheck]) -> dict[str, float]:
    def rate(values: list[bool]) -> float:
        return sum(values) / len(values) if values else 1.0

    return {
        "object": rate([o.present for c in checks for o in c.objects]),
        "colour": rate([o.present and o.colour_ok for c in checks for o in c.objects]),
        "relation": rate([r.ok for c in checks for r in c.relations]),
        "count": rate([n.ok for c in checks for n in c.counts]),
        "background": rate([c.background_ok for c in checks]),
        "orientation": rate([o.present and o.orientation_ok for c in checks for o in c.objects]),
        "scene": rate([c.correct for c in checks]),
    }


def perturb(scene: Scene, rng: random.Random, how: str) -> Scene | None:
    """The scene with one part changed so that it no longer describes the image; None if not applicable."""
    objects = list(scene.objects)
    i = rng.randrange(len(objects))
    if how == "colour":
        objects[i] = replace(objects[i], colour=rng.choice([c for c in COLOURS if c != objects[i].colour]))
    elif how == "kind":
        objects[i] = replace(objects[i], kind=rng.choice([k for k in KINDS if k != objects[i].kind]), upside_down=False)
    elif how == "background":
        return Scene(rng.choice([b for b in BACKGROUNDS if b != scene.background]), scene.objects)
    elif how == "swap":
        # Two different-looking objects trade places: every part is present, only relations break.
        pairs = [(a, b) for a, _, b in scene.relations() if (objects[a].kind, objects[a].colour) != (objects[b].kind, objects[b].colour)]
        if not pairs:
            return None
        a, b = rng.choice(pairs)
        objects[a], objects[b] = replace(objects[a], box=objects[b].box), replace(objects[b], box=objects[a].box)
    else:
        raise ValueError(f"unknown perturbation {how!r}")
    return Scene(scene.background, tuple(objects))


def recolour_group(scene: Scene, rng: random.Random) -> Scene:
    """The scene with every object of one (kind, colour) group given another colour: "a pair of white cars" -> green ones."""
    kind, colour = rng.choice(sorted({(o.kind, o.colour) for o in scene.objects}))
    taken = {o.colour for o in scene.objects if o.kind == kind}
    new = rng.choice([c for c in COLOURS if c not in taken])
    return Scene(scene.background, tuple(replace(o, colour=new) if (o.kind, o.colour) == (kind, colour) else o for o in scene.objects))


def evaluate_layouts(checker: SceneChecker, report: CheckerReport, scenes: int, seed: int, sizes: tuple[int, ...]) -> None:
    """Fill ``report.layouts`` (every part right on true renders) and the recoloured-group false positives."""
    recoloured: list[bool] = []
    for name, draw in LAYOUTS.items():
        rng = random.Random(f"{seed}-{name}")
        records = [draw(rng) for _ in range(scenes)]
        report.layouts[name] = {}
        for size in sizes:
            inputs = [to_input(render_scene(s, size)) for s in records]
            report.layouts[name][f"{size}px"] = sum(c.correct for c in checker.check_many(inputs, records)) / scenes
            if size == sizes[0]:
                wrong = [recolour_group(s, rng) for s in records]
                recoloured += [c.counts_ok for c in checker.check_many(inputs, wrong)]
    if recoloured:
        report.false_positive["hard layouts, one (kind, colour) group recoloured: count passes"] = sum(recoloured) / len(recoloured)


def evaluate_checker(checker: SceneChecker, scenes: int = 1000, seed: int = EVAL_SEED, sizes: tuple[int, ...] = (32, 64, 128),
                     *, layout_scenes: int | None = None) -> CheckerReport:
    rng = random.Random(seed)
    records = [sample_scene(rng, held_out=None) for _ in range(scenes)]
    report = CheckerReport(scenes=scenes)
    inputs_32 = None
    for size in sizes:
        inputs = [to_input(render_scene(s, size)) for s in records]
        inputs_32 = inputs if size == 32 else inputs_32
        report.accuracy[f"clean {size}px"] = attribute_accuracy(checker.check_many(inputs, records))
    degraded = [to_input(degrade(render_scene(s, 32), rng)) for s in records]
    report.accuracy["degraded 32px (blur/noise/JPEG/colour)"] = attribute_accuracy(checker.check_many(degraded, records))

    images = inputs_32 if inputs_32 is not None else [to_input(render_scene(s, 32)) for s in records]
    others = records[1:] + records[:1]
    report.false_positive["another random scene"] = sum(c.correct for c in checker.check_many(images, others)) / scenes
    for how in ("colour", "kind", "background", "swap"):
        pairs = [(img, p) for img, s in zip(images, records) if (p := perturb(s, rng, how)) is not None]
        checks = checker.check_many([img for img, _ in pairs], [p for _, p in pairs])
        report.false_positive[f"one {how} changed" if how != "swap" else "two objects swapped"] = (
            sum(c.correct for c in checks) / max(1, len(checks))
        )
    evaluate_layouts(checker, report, scenes if layout_scenes is None else layout_scenes, seed, sizes)
    return report
