"""The compositional benchmark: can the model draw combinations it never saw, asked for in words it never saw?

    imagine eval compositional --model var/models/default --prompts-per-category 20 --out var/eval/compositional

Like GenEval: six categories (single object, two objects, colour, colour binding, position, counting),
each prompt asked for ``images_per_prompt`` times, every image judged by the platform's scene checker on
the parts its category is about; a category's score is the fraction of images judged right and the
overall score is the mean over categories. Every prompt comes from a *held-out* scene record
(``sample_scene(held_out=True)``: a colour-kind pair or a spatial pair the demo corpus never shows) and is
phrased three ways: canonical, casual (training vocabulary, other layouts) and with the held-out synonyms
no caption ever uses ("automobile", "crimson"). Two gaps, reported apart: the paraphrase gap is canonical
minus casual accuracy (other words and layouts the model was trained on), the synonym gap canonical minus
held-out-synonym accuracy (words it never saw: the text encoder's job). All phrasings of one scene share a
seed, so each gap measures the text alone.
"""

from __future__ import annotations

import io
import json
import logging
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from imagine.atomic import atomic_write
from imagine.platform.captions import describe_scene
from imagine.platform.scenes import Scene, sample_scene

if TYPE_CHECKING:
    from PIL import Image

    from imagine.generate.core import Generator
    from imagine.platform.checker import SceneCheck

log = logging.getLogger(__name__)

PHRASINGS = ("canonical", "casual", "synonyms")
RESULTS_JSON = "compositional.json"
GRID_PNG = "compositional_grid.png"


def _looks(scene: Scene) -> list[tuple[str, str]]:
    return [(o.kind, o.colour) for o in scene.objects]


def _is_single(scene: Scene) -> bool:
    return len(scene.objects) == 1


def _is_two(scene: Scene) -> bool:
    return len(scene.objects) == 2 and scene.objects[0].kind != scene.objects[1].kind


def _is_binding(scene: Scene) -> bool:
    return _is_two(scene) and scene.objects[0].colour != scene.objects[1].colour


def _is_position(scene: Scene) -> bool:
    return len(scene.objects) == 2 and len(set(_looks(scene))) == 2 and bool(scene.relations())


def _is_counting(scene: Scene) -> bool:
    return len(scene.objects) >= 2 and len(set(_looks(scene))) == 1


def _position_passes(check: "SceneCheck") -> bool:
    """Both objects found and every relation holds; two objects of one kind must also show their colours,
    since only the colour says which is which ("the green star is right of the purple star")."""
    kinds = [o.kind for o in check.objects]
    identified = all(o.colour_ok for o in check.objects if kinds.count(o.kind) > 1)
    return check.objects_ok and bool(check.relations) and check.relations_ok and identified


@dataclass(frozen=True)
class Category:
    """Which held-out scenes belong to the category and which verdicts of the checker decide an image."""

    name: str
    accepts: Callable[[Scene], bool]
    passes: Callable[["SceneCheck"], bool]


CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        Category("single_object", _is_single, lambda ch: ch.objects_ok),
        Category("two_objects", _is_two, lambda ch: ch.objects_ok),
        Category("colour", _is_single, lambda ch: ch.colours_ok),
        Category("colour_binding", _is_binding, lambda ch: ch.colours_ok),
        Category("position", _is_position, _position_passes),
        Category("counting", _is_counting, lambda ch: ch.counts_ok),
    )
}


@dataclass(frozen=True)
class BenchmarkItem:
    """One held-out scene of one category, its phrasings (``phrasing -> prompt``) and the seed all of them use."""

    category: str
    scene: Scene
    prompts: dict[str, str]
    seed: int


def _casual(scene: Scene, rng: random.Random, needs_relation: bool) -> str:
    """A casual caption; for position prompts one that still states the relation (casual may drop it)."""
    for _ in range(50):
        text = describe_scene(scene, rng, style="casual")
        if not needs_relation or " is " in text:
            return text
    raise RuntimeError(f"could not phrase a casual caption with a relation for {scene.to_json()}")


def build_suite(prompts_per_category: int = 10, seed: int = 0) -> list[BenchmarkItem]:
    """``prompts_per_category`` held-out scenes per category, each phrased canonically, casually and with held-out synonyms."""
    if prompts_per_category < 1:
        raise ValueError(f"prompts_per_category must be >= 1, got {prompts_per_category}")
    items: list[BenchmarkItem] = []
    for c_index, category in enumerate(CATEGORIES.values()):
        rng = random.Random(f"{seed}-{category.name}")
        seen: set[str] = set()
        while sum(i.category == category.name for i in items) < prompts_per_category:
            scene = sample_scene(rng, held_out=True)
            if not category.accepts(scene) or scene.to_json() in seen:
                continue
            seen.add(scene.to_json())
            canonical = describe_scene(scene)
            prompts = {"canonical": canonical, "casual": _casual(scene, rng, category.name == "position")}
            synonyms = describe_scene(scene, held_out=True)
            if synonyms != canonical:  # only scenes with a word that has a held-out synonym
                prompts["synonyms"] = synonyms
            index = sum(i.category == category.name for i in items)
            items.append(BenchmarkItem(category.name, scene, prompts, seed=seed * 1_000_003 + c_index * 10_007 + index * 101))
    return items


@dataclass
class ScoredPrompt:
    """The checker's verdicts on the images of one phrasing of one item."""

    category: str
    phrasing: str
    prompt: str
    scene_json: str
    seed: int
    passed: list[bool]
    strict: list[bool]  # every part right, background included (check.correct)


def score_images(checker: Any, images: list["Image.Image"], item: BenchmarkItem, phrasing: str, prompt: str) -> ScoredPrompt:
    """Judge ``images`` of ``item`` with the scene checker; the one scoring path for generated and rendered images."""
    checks = checker.check_many(images, [item.scene] * len(images))
    category = CATEGORIES[item.category]
    return ScoredPrompt(
        category=item.category, phrasing=phrasing, prompt=prompt, scene_json=item.scene.to_json(), seed=item.seed,
        passed=[bool(category.passes(c)) for c in checks], strict=[bool(c.correct) for c in checks],
    )


def _mean(values: list[bool]) -> float:
    return sum(values) / len(values) if values else float("nan")


@dataclass
class CompositionalReport:
    """Scores (canonical phrasing unless named), the paraphrase gap and every judged prompt."""

    model_id: str
    settings: dict[str, Any]
    categories: dict[str, dict[str, float]]
    overall: float
    overall_by_phrasing: dict[str, float]
    paraphrased: float  # casual phrasings (training vocabulary, other layouts)
    paraphrase_gap: float  # overall - paraphrased
    synonyms: float  # held-out synonyms, words no training caption uses
    synonym_gap: float  # overall of the scenes that have a synonym phrasing - synonyms (same scenes)
    strict_overall: float
    seconds: float
    prompts: list[ScoredPrompt] = field(default_factory=list)
    truth_overall: float = float("nan")  # the same suite's true renders through the same checker: the ceiling

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarise(scored: list[ScoredPrompt], model_id: str, settings: dict[str, Any], seconds: float) -> CompositionalReport:
    """Per-category accuracy by phrasing; overall = mean over categories (GenEval); gaps against canonical.

    ``paraphrased`` is the casual phrasing; held-out synonyms are reported apart (``synonyms``), and their gap
    is taken against the canonical phrasing of the same scenes (not every scene has a synonym phrasing).
    """
    categories: dict[str, dict[str, float]] = {}
    for name in CATEGORIES:
        rows = [s for s in scored if s.category == name]
        entry = {p: _mean([v for s in rows if s.phrasing == p for v in s.passed]) for p in PHRASINGS}
        entry["paraphrased"] = entry["casual"]
        with_synonyms = {(s.scene_json, s.seed) for s in rows if s.phrasing == "synonyms"}
        entry["canonical_of_synonyms"] = _mean([v for s in rows if s.phrasing == "canonical"
                                                and (s.scene_json, s.seed) in with_synonyms for v in s.passed])
        entry["strict"] = _mean([v for s in rows if s.phrasing == "canonical" for v in s.strict])
        categories[name] = entry

    def over(key: str) -> float:
        values = [c[key] for c in categories.values() if c[key] == c[key]]  # skip NaN (no prompts of that kind)
        return sum(values) / len(values) if values else float("nan")

    by_phrasing = {p: over(p) for p in PHRASINGS}
    paraphrased = over("paraphrased")
    return CompositionalReport(
        model_id=model_id, settings=settings, categories=categories, overall=by_phrasing["canonical"],
        overall_by_phrasing=by_phrasing, paraphrased=paraphrased, paraphrase_gap=by_phrasing["canonical"] - paraphrased,
        synonyms=by_phrasing["synonyms"], synonym_gap=over("canonical_of_synonyms") - by_phrasing["synonyms"],
        strict_overall=over("strict"), seconds=seconds, prompts=scored,
    )


def write_grid(rows: list[tuple[str, list["Image.Image"]]], path: Path, *, cell: int = 96, width: int = 640) -> None:
    """A PNG grid: per row a wrapped label then its images, scaled to ``cell`` px nearest-neighbour (no blur)."""
    import textwrap

    from PIL import Image, ImageDraw

    if not rows:
        raise ValueError("no rows to draw")
    columns = max(len(images) for _, images in rows)
    width = max(width, columns * (cell + 4) + 4)
    labels = [textwrap.wrap(label, width=(width - 8) // 6) or [""] for label, _ in rows]
    heights = [len(lines) * 12 + 2 + cell + 8 for lines in labels]
    grid = Image.new("RGB", (width, sum(heights) + 4), "white")
    draw = ImageDraw.Draw(grid)
    y = 4
    for (_, images), lines, height in zip(rows, labels, heights):
        for k, line in enumerate(lines):
            draw.text((4, y + 12 * k), line, fill="black")
        top = y + len(lines) * 12 + 2
        for c, image in enumerate(images):
            grid.paste(image.convert("RGB").resize((cell, cell), Image.Resampling.NEAREST), (4 + c * (cell + 4), top))
        y += height
    buffer = io.BytesIO()
    grid.save(buffer, format="PNG")
    atomic_write(path, buffer.getvalue())


def run_compositional(
    model: str | Path | None = None,
    out: str | Path | None = None,
    *,
    prompts_per_category: int = 10,
    images_per_prompt: int = 4,
    steps: int | None = None,
    guidance: float | None = None,
    sampler: str | None = None,
    seed: int = 0,
    checker_dir: str | Path | None = None,
    batch_prompts: int = 16,
    generator: "Generator | None" = None,
    progress: bool = True,
) -> CompositionalReport:
    """Generate and judge the whole suite; with ``out``, write ``compositional.json`` and ``compositional_grid.png`` there.

    ``generator`` reuses an already loaded model (benchmarks); otherwise ``model`` is loaded (None: the default).
    """
    from imagine.config import get_settings
    from imagine.generate.core import GenerationRequest, Generator
    from imagine.platform.checker import SceneChecker
    from imagine.platform.render import render_scene
    from imagine.progress import progress_bar

    if images_per_prompt < 1:
        raise ValueError(f"images_per_prompt must be >= 1, got {images_per_prompt}")
    cfg = get_settings().generate
    steps = cfg.steps if steps is None else steps
    guidance = cfg.guidance if guidance is None else guidance
    sampler = cfg.sampler if sampler is None else sampler
    checker = SceneChecker.load(Path(checker_dir) if checker_dir is not None else None)
    gen = generator if generator is not None else Generator.load(model)
    items = build_suite(prompts_per_category, seed)
    jobs = [(item, phrasing, prompt) for item in items for phrasing, prompt in item.prompts.items()]
    # validate every request before any model work
    requests = [GenerationRequest(prompt, n=images_per_prompt, seed=item.seed, steps=steps, guidance=guidance, sampler=sampler)
                for item, _, prompt in jobs]

    start = time.perf_counter()
    scored: list[ScoredPrompt] = []
    grid_rows: dict[str, tuple[str, list]] = {}
    with progress_bar(disable=not progress) as bar:
        task = bar.add_task("compositional", total=len(jobs))
        for lo in range(0, len(jobs), batch_prompts):
            chunk = jobs[lo : lo + batch_prompts]
            results = gen.generate(requests[lo : lo + batch_prompts])
            for (item, phrasing, prompt), result in zip(chunk, results):
                scored.append(score_images(checker, result.images, item, phrasing, prompt))
                if phrasing == "canonical" and item.category not in grid_rows:
                    truth = render_scene(item.scene, gen.image_size[0])
                    grid_rows[item.category] = (f"{item.category} (first: true render): {prompt}", [truth, *result.images])
            bar.update(task, advance=len(chunk))
    seconds = time.perf_counter() - start

    settings = {"prompts_per_category": prompts_per_category, "images_per_prompt": images_per_prompt, "steps": steps,
                "guidance": guidance, "sampler": sampler, "seed": seed, "image_size": list(gen.image_size)}
    report = summarise(scored, gen.model_id, settings, seconds)
    truth = [score_images(checker, [render_scene(item.scene, gen.image_size[0])], item, "canonical", item.prompts["canonical"])
             for item in items]
    report.truth_overall = summarise(truth, "truth", settings, 0.0).overall
    if out is not None:
        out = Path(out)
        atomic_write(out / RESULTS_JSON, json.dumps(report.to_dict(), indent=2))
        write_grid([grid_rows[c] for c in CATEGORIES if c in grid_rows], out / GRID_PNG)
    log.info("compositional overall %.3f (paraphrased %.3f, gap %+.3f; true renders %.3f) in %.0fs",
             report.overall, report.paraphrased, report.paraphrase_gap, report.truth_overall, seconds)
    return report


def format_table(report: CompositionalReport) -> str:
    """The per-category table in Markdown (docs/compositional.md and the CLI)."""
    lines = ["| category | canonical | paraphrased (casual) | held-out synonyms | canonical, same scenes as synonyms | strict (all parts) |",
             "|---|---|---|---|---|---|"]
    fmt = lambda v: "n/a" if v != v else f"{v:.2f}"  # noqa: E731
    for name, c in report.categories.items():
        lines.append(f"| {name} | {fmt(c['canonical'])} | {fmt(c['paraphrased'])} | {fmt(c['synonyms'])} | "
                     f"{fmt(c['canonical_of_synonyms'])} | {fmt(c['strict'])} |")
    o = report.overall_by_phrasing
    lines.append(f"| **overall** | **{fmt(o['canonical'])}** | {fmt(report.paraphrased)} | {fmt(report.synonyms)} | "
                 f"{fmt(report.synonyms + report.synonym_gap)} | {fmt(report.strict_overall)} |")
    lines.append("")
    lines.append(f"paraphrase gap (canonical - casual) {report.paraphrase_gap:+.2f}; "
                 f"synonym gap (canonical - held-out synonyms, same scenes) {report.synonym_gap:+.2f}")
    return "\n".join(lines)
