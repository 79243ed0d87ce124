"""Normalisation undoes disguises but leaves ordinary text alone."""

from __future__ import annotations

import pytest

from imagine.guard.normalize import fold, skeleton


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Taylor Swift", "taylor swift"),
        ("T\u0430ylor Sw\u0456ft", "taylor swift"),  # Cyrillic а, і
        ("\u039f\u03b2\u03b1m\u03b1", "obama"),  # Greek Ο β α, α
        ("ΤΑΥLΟR", "taylor"),  # capital Greek, mapped before casefolding
        ("T\u200ba\u200by\u200dl\u2060o\ufeffr", "taylor"),  # zero-width characters
        ("t4yl0r sw1ft", "taylor swift"),  # leetspeak
        ("$wift", "swift"),
        ("T a y l o r  S w i f t", "taylorswift"),  # spacing
        ("t.a.y.l.o.r", "taylor"),
        ("a n u d e model", "a nude model"),  # the article stays a word of its own
        ("Beyoncé", "beyonce"),  # accents (NFKD + strip combining marks)
        ("ＢＥＹＯＮＣＥ", "beyonce"),  # full-width (NFKC)
        ("𝐓𝐚𝐲𝐥𝐨𝐫", "taylor"),  # mathematical bold
        ("taylor_swift", "taylor swift"),
    ],
)
def test_skeleton_undoes_disguises(text, expected):
    assert skeleton(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 red cars, 2024", "3 red cars 2024"),  # numbers are not leetspeak
        ("the 45th president in the 1990s", "the 45th president in the 1990s"),  # nor ordinals
        ("a red car left of a green tree", "a red car left of a green tree"),
        ("Taylor!", "taylor"),  # sentence punctuation is not leetspeak
    ],
)
def test_skeleton_leaves_plain_text_alone(text, expected):
    assert skeleton(text) == expected


def test_fold_keeps_the_script_for_other_languages():
    assert fold("ГОЛАЯ Женщина") == "голая женщина"
    assert fold("Desnúda") == "desnuda"
    assert fold("n\u200bu\u200bd\u200be") == "nude"
