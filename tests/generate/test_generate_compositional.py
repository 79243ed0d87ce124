"""The compositional benchmark: held-out suite, the checker really scoring, and the end-to-end run's JSON + grid."""

from __future__ import annotations

import collections
import dataclasses
import json
import math

import pytest
from PIL import Image

from imagine.eval.compositional import (
    CATEGORIES, GRID_PNG, PHRASINGS, RESULTS_JSON, build_suite, format_table, run_compositional, score_images, summarise,
)
from imagine.platform.captions import uses_held_out_words
from imagine.platform.scenes import is_held_out


def test_suite_is_held_out_balanced_and_deterministic():
    items = build_suite(prompts_per_category=4, seed=3)
    assert [i.category for i in items] == [c for c in CATEGORIES for _ in range(4)]
    assert items == build_suite(prompts_per_category=4, seed=3)
    assert items != build_suite(prompts_per_category=4, seed=4)
    for item in items:
        assert is_held_out(item.scene)
        assert CATEGORIES[item.category].accepts(item.scene)
        assert set(item.prompts) <= set(PHRASINGS) and "canonical" in item.prompts and "casual" in item.prompts
        assert not uses_held_out_words(item.prompts["canonical"])
        if "synonyms" in item.prompts:
            assert uses_held_out_words(item.prompts["synonyms"])
        if item.category == "position":
            assert all(" is " in p for p in item.prompts.values())  # every phrasing states the relation
    assert sum("synonyms" in i.prompts for i in items) >= len(items) // 2


@pytest.fixture(scope="module")
def checker():
    from imagine.platform.checker import SceneChecker

    return SceneChecker.load()


def test_rendered_ground_truth_scores_high_and_wrong_images_low(checker):
    """The same scoring path the benchmark uses: true renders pass, renders of other scenes mostly fail."""
    from imagine.platform.render import render_scene

    items = build_suite(prompts_per_category=4, seed=1)
    truth = [score_images(checker, [render_scene(i.scene, 32), render_scene(i.scene, 64)], i, "canonical", i.prompts["canonical"])
             for i in items]
    good = summarise(truth, "ground-truth", {}, 0.0)
    assert good.overall >= 0.8, good.categories
    shifted = items[1:] + items[:1]  # every item judged on another item's scene
    wrong = [score_images(checker, [render_scene(other.scene, 32)] * 2, i, "canonical", i.prompts["canonical"])
             for i, other in zip(items, shifted)]
    bad = summarise(wrong, "wrong", {}, 0.0)
    assert bad.overall < good.overall - 0.3, (bad.overall, good.overall)
    blank = [score_images(checker, [Image.new("RGB", (32, 32), (128, 128, 128))] * 2, i, "canonical", "x") for i in items]
    assert summarise(blank, "blank", {}, 0.0).overall <= 0.1


def test_paraphrases_and_held_out_synonyms_are_reported_apart(checker):
    """8 scenes per category: canonical and casual prompts get true renders, synonym prompts a blank image.

    Then canonical and paraphrased score high and the held-out synonyms score low, each with its own gap.
    """
    from imagine.platform.render import render_scene

    items = build_suite(prompts_per_category=8, seed=5)
    assert collections.Counter(i.category for i in items) == {c: 8 for c in CATEGORIES}
    assert set(CATEGORIES) == {"single_object", "two_objects", "colour", "colour_binding", "position", "counting"}
    blank = Image.new("RGB", (32, 32), (128, 128, 128))
    scored = [score_images(checker, [render_scene(i.scene, 32) if phrasing != "synonyms" else blank], i, phrasing, prompt)
              for i in items for phrasing, prompt in i.prompts.items()]
    report = summarise(scored, "truth-and-blank", {}, 0.0)
    assert report.overall >= 0.95 and report.paraphrased >= 0.95 and abs(report.paraphrase_gap) <= 0.05
    assert report.synonyms <= 0.25 and report.synonym_gap >= 0.7
    table = format_table(report)
    assert "held-out synonyms" in table and "synonym gap" in table and "paraphrase gap" in table


def test_end_to_end_on_a_tiny_random_model(tiny_imagine_dir, tmp_path):
    report = run_compositional(tiny_imagine_dir, tmp_path, prompts_per_category=8, images_per_prompt=1, steps=1,
                               seed=0, progress=False)
    data = json.loads((tmp_path / RESULTS_JSON).read_text())
    assert set(data["categories"]) == set(CATEGORIES)
    assert data["settings"]["images_per_prompt"] == 1 and data["model_id"] == "model"
    n_prompts = sum(len(i.prompts) for i in build_suite(8, 0))
    assert len(data["prompts"]) == n_prompts
    assert collections.Counter(p["category"] for p in data["prompts"] if p["phrasing"] == "canonical") == {c: 8 for c in CATEGORIES}
    assert all(len(p["passed"]) == 1 and len(p["strict"]) == 1 for p in data["prompts"])
    for value in (data["overall"], data["paraphrased"]):
        assert 0.0 <= value <= 1.0
    assert math.isclose(data["paraphrase_gap"], data["overall"] - data["paraphrased"])
    grid = Image.open(tmp_path / GRID_PNG)
    assert grid.size[0] > 2 * 96 and grid.size[1] > 6 * 96  # six category rows: the true render and one image
    assert report.overall == data["overall"]
    assert data["truth_overall"] >= 0.8  # the checker really judged: true renders of the same suite pass


# Measured 0.940 (docs/scene-checker.md); the goal is 0.95, short by two images of melted shapes.
EYE_AGREEMENT_FLOOR = 0.93


def test_checker_agrees_with_the_eye_on_hand_labelled_images(checker):
    """>= 100 generated images (all categories) plus renders, each labelled by a person looking at it."""
    from imagine.eval.compositional_eye import eye_agreement, load_eye_labels

    labels = load_eye_labels()
    generated = [label for label in labels if label.source == "generated"]
    assert len(generated) >= 100 and {label.category for label in generated} == set(CATEGORIES)
    assert 0.2 <= sum(label.satisfies for label in generated) / len(generated) <= 0.8  # both verdicts well represented
    result = eye_agreement(checker, labels)
    assert result.agreement >= EYE_AGREEMENT_FLOOR, "\n".join(result.lines())
    # Judging against the wrong scene must break the agreement: the verdicts really come from the images.
    shifted = [dataclasses.replace(label, scene=other.scene) for label, other in zip(labels, labels[7:] + labels[:7])]
    assert eye_agreement(checker, shifted).agreement < 0.8
