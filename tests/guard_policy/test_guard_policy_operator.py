"""Operators extend the policy with their own TOML files and settings, never by editing code."""

from __future__ import annotations

import pytest

from imagine.config import GuardSettings, Settings
from imagine.guard.policy import PromptPolicy

OPERATOR_TOML = """
[[person]]
id = "mira-castellanos"
name = "Mira Castellanos"
aliases = ["Mira C"]
works = ["Glass Harbour"]
descriptions = ["the mayor of Port Elwin who cut the ribbon on the new harbour bridge"]

[[category]]
name = "hate_symbols"
terms = ["gorblax sigil"]

[[category]]
name = "weapons"
code = "unsafe.weapons"
reason = "Weapon manufacturing instructions are not allowed."
terms = ["ghost gun blueprint"]

[allow]
phrases = ["swastika pattern in ancient hindu temple art"]
"""


@pytest.fixture()
def operator_file(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(OPERATOR_TOML, encoding="utf-8")
    return path


def _settings(tmp_path, **guard) -> Settings:
    return Settings(data_home=tmp_path, guard=GuardSettings(**guard))


def test_operator_file_adds_people_terms_categories_and_allow_phrases(tmp_path, operator_file):
    shipped = PromptPolicy.load(settings=_settings(tmp_path), semantic=False)
    assert shipped.check("Mira Castellanos at the harbour").allowed
    policy = PromptPolicy.load(settings=_settings(tmp_path, policy_files=[operator_file]), semantic=False)
    named = policy.check("Mira Castelanos at the harbour")  # misspelt: edit distance applies to new names too
    assert (named.allowed, named.code, named.matched) == (False, "likeness.named_person", "Mira Castellanos")
    assert policy.check("a singer performing Glass Harbour").code == "likeness.described_person"
    assert policy.check("a flag with the g0rblax sigil").code == "unsafe.hate_symbols"
    assert policy.check("a ghost gun blueprint").to_dict() == {
        "allowed": False, "category": "weapons", "code": "unsafe.weapons",
        "reason": "Weapon manufacturing instructions are not allowed.", "matched": "ghost gun blueprint",
    }
    assert policy.check("a swastika pattern in ancient Hindu temple art").allowed
    assert not policy.check("a swastika flag").allowed  # the allow phrase is cut out, nothing else
    assert not policy.check("Taylor Swift").allowed  # the shipped data is still there


def test_load_accepts_a_file_or_a_folder_and_the_path_wins_over_settings(tmp_path, operator_file):
    for path in (operator_file, operator_file.parent):
        policy = PromptPolicy.load(path, settings=_settings(tmp_path), semantic=False)
        assert not policy.check("Mira Castellanos").allowed


def test_settings_allow_list_and_defaults_switch(tmp_path, operator_file):
    allowing = PromptPolicy.load(settings=_settings(tmp_path, policy_allow=["nude beach sign"]), semantic=False)
    assert allowing.check("a nude beach sign on a post").allowed
    assert not allowing.check("a nude woman").allowed
    only_operator = PromptPolicy.load(settings=_settings(tmp_path, policy_files=[operator_file], policy_defaults=False), semantic=False)
    assert only_operator.check("Taylor Swift").allowed
    assert not only_operator.check("Mira Castellanos").allowed


def test_thresholds_are_operator_configurable(tmp_path, policy):
    prompt = "the bald man who founded Amazon in a cowboy hat"
    assert not policy.check(prompt).allowed
    strict = tmp_path / "strict.toml"
    strict.write_text("[likeness]\nthreshold = 0.99\n", encoding="utf-8")
    relaxed = PromptPolicy.load(strict, settings=_settings(tmp_path))
    assert relaxed.data.likeness_threshold == 0.99
    assert relaxed.check(prompt).allowed


def test_disabling_a_category(tmp_path):
    off = tmp_path / "off.toml"
    off.write_text('[[category]]\nname = "graphic_violence"\nenabled = false\n', encoding="utf-8")
    policy = PromptPolicy.load(off, settings=_settings(tmp_path), semantic=False)
    assert policy.check("a decapitated statue").allowed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[person]]\nname = 'No Id'\n", "needs an id"),
        ("[[person]]\nid = 'x'\nname = 'X'\nnicknames = ['y']\n", "unknown keys"),
        ("[peeple]\n", "unknown sections"),
        ("[[category]]\nname = 'x'\nrequires = 'nothing'\n", "unknown category"),
    ],
)
def test_bad_operator_files_are_clear_errors(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        PromptPolicy.load(path, settings=_settings(tmp_path), semantic=False)


def test_missing_operator_file_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        PromptPolicy.load(settings=_settings(tmp_path, policy_files=[tmp_path / "nope.toml"]), semantic=False)
