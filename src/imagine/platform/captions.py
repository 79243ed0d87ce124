"""Phrasing scenes in words: canonical prompts for other stages, and the messy captions people post.

Two vocabularies. ``TRAINING_SYNONYMS`` holds every word a demo caption may use for a kind, colour,
background, count or orientation. ``HELD_OUT_SYNONYMS`` holds one more word for some of them
("automobile", "crimson") that no demo caption ever uses, so the compositional benchmark can test
whether the model generalises through the text encoder to words it never saw in training.
"""

from __future__ import annotations

import random
import re
from typing import Literal

from imagine.platform.scenes import Scene, SceneObject

# First entry of each list is the canonical word.
TRAINING_SYNONYMS: dict[str, tuple[str, ...]] = {
    # kinds
    "circle": ("circle", "dot", "round shape"),
    "square": ("square", "box", "block"),
    "triangle": ("triangle", "triangle shape"),
    "star": ("star", "little star"),
    "heart": ("heart", "love heart"),
    "house": ("house", "home", "cottage"),
    "tree": ("tree", "pine tree", "fir tree"),
    "car": ("car", "auto", "little car"),
    # colours
    "red": ("red", "scarlet"),
    "orange": ("orange",),
    "yellow": ("yellow", "golden"),
    "green": ("green",),
    "blue": ("blue",),
    "purple": ("purple", "violet"),
    "pink": ("pink", "rose"),
    "white": ("white",),
    "black": ("black",),
    "brown": ("brown",),
    # backgrounds
    "sky": ("sky", "blue sky", "daytime sky"),
    "night": ("night", "night sky"),
    "grass": ("grass", "lawn", "meadow"),
    "beach": ("beach", "seaside", "shore"),
    "snow": ("snow", "snowy ground"),
    "desert": ("desert", "sand dunes"),
    # relations
    "left of": ("left of", "to the left of", "on the left of"),
    "right of": ("right of", "to the right of", "on the right of"),
    "above": ("above", "over"),
    "below": ("below", "under", "beneath"),
    # counts and orientation
    "2": ("two", "2"),
    "3": ("three", "3"),
    "4": ("four", "4"),
    "upside-down": ("upside-down", "upside down", "flipped"),
}

# Words demo captions never use (checked by the tests); the benchmark phrases held-out prompts with them.
HELD_OUT_SYNONYMS: dict[str, str] = {
    "car": "automobile",
    "house": "bungalow",
    "tree": "conifer",
    "circle": "disk",
    "square": "tile",
    "heart": "valentine",
    "red": "crimson",
    "blue": "azure",
    "green": "emerald",
    "yellow": "lemon",
    "purple": "lavender",
    "pink": "fuchsia",
    "white": "ivory",
    "black": "ebony",
    "brown": "chocolate",
    "beach": "coast",
    "grass": "prairie",
    "upside-down": "inverted",
}

PLURALS = {"box": "boxes", "little car": "little cars", "bungalow": "bungalows"}

Style = Literal["canonical", "casual"]


def held_out_words() -> frozenset[str]:
    return frozenset(HELD_OUT_SYNONYMS.values())


def _plural(word: str) -> str:
    if word in PLURALS:
        return PLURALS[word]
    if word.endswith(("s", "x", "sh", "ch")):
        return word + "es"
    return word + "s"


def _article(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


class _Words:
    """Chooses words for a concept: the canonical word, a random training synonym, or the held-out one."""

    def __init__(self, rng: random.Random | None, held_out: bool) -> None:
        self.rng, self.held_out = rng, held_out

    def __call__(self, concept: str) -> str:
        if self.held_out and concept in HELD_OUT_SYNONYMS:
            return HELD_OUT_SYNONYMS[concept]
        options = TRAINING_SYNONYMS[concept]
        return options[0] if self.rng is None else self.rng.choice(options)


def _group_phrases(scene: Scene, words: _Words) -> tuple[list[str], dict[int, str]]:
    """Phrases for each group of identical objects ("three red stars"), and a short name per object."""
    groups: dict[tuple[str, str, bool], list[int]] = {}
    for i, o in enumerate(scene.objects):
        groups.setdefault((o.kind, o.colour, o.upside_down), []).append(i)
    phrases: list[str] = []
    names: dict[int, str] = {}
    for (kind, colour, flipped), members in groups.items():
        noun, adjective = words(kind), words(colour)
        if flipped:
            adjective = f"{words('upside-down')} {adjective}"
        single = f"{adjective} {noun}"
        if len(members) == 1:
            phrases.append(_article(single))
        else:
            phrases.append(f"{words(str(len(members)))} {adjective} {_plural(noun)}")
        for i in members:
            names[i] = single
    return phrases, names


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _relation_clauses(scene: Scene, names: dict[int, str], words: _Words, limit: int) -> list[str]:
    """Up to ``limit`` relations between objects that look different (never "the red star left of the red star")."""
    clauses, seen = [], set()
    for i, rel, j in scene.relations():
        a, b = names[i], names[j]
        if a == b or (b, a) in seen or (a, b) in seen:
            continue
        seen.add((a, b))
        clauses.append(f"the {a} is {words(rel)} the {b}")
        if len(clauses) == limit:
            break
    return clauses


def describe_scene(scene: Scene, rng: random.Random | None = None, *, style: Style = "canonical", held_out: bool = False) -> str:
    """The scene in English. ``canonical`` is fixed and complete (prompts); ``casual`` varies words and layout.

    ``held_out=True`` swaps in the held-out synonyms wherever one exists (benchmark prompts only).
    """
    if style not in ("canonical", "casual"):
        raise ValueError(f"unknown caption style {style!r}; use 'canonical' or 'casual'")
    if style == "casual" and rng is None:
        raise ValueError("the casual style needs an rng")
    words = _Words(rng if style == "casual" else None, held_out)
    phrases, names = _group_phrases(scene, words)
    background = words(scene.background)
    if style == "canonical":
        text = f"{_join(phrases)} on a {background} background"
        clauses = _relation_clauses(scene, names, words, limit=2)
        return "; ".join([text, *clauses])
    assert rng is not None
    clauses = _relation_clauses(scene, names, words, limit=rng.choice((0, 1, 1, 2)))
    template = rng.choice(
        (
            "{objects} on the {bg}",
            "{objects} against a {bg} background",
            "my drawing: {objects}, {bg} behind",
            "{bg} with {objects}",
            "just {objects}",
            "look, {objects} on a {bg} background",
        )
    )
    text = template.format(objects=_join(phrases), bg=background)
    if clauses:
        text += ". " + ". ".join(clauses)
    if rng.random() < 0.3:
        text = text.capitalize()
    return text


def uses_held_out_words(text: str) -> list[str]:
    """The held-out synonyms that occur as words in ``text`` (demo captions must have none)."""
    lowered = text.lower()
    return [w for w in sorted(held_out_words()) if re.search(rf"\b{re.escape(w)}\b", lowered)]


# ---- other languages: one main object plus the background, the way people caption abroad ----

_ES_KINDS = {"circle": ("círculo", "m"), "square": ("cuadrado", "m"), "triangle": ("triángulo", "m"), "star": ("estrella", "f"),
             "heart": ("corazón", "m"), "house": ("casa", "f"), "tree": ("árbol", "m"), "car": ("coche", "m")}
_ES_COLOURS = {"red": "rojo", "orange": "naranja", "yellow": "amarillo", "green": "verde", "blue": "azul", "purple": "morado",
               "pink": "rosa", "white": "blanco", "black": "negro", "brown": "marrón"}
_ES_BG = {"sky": "el cielo", "night": "la noche", "grass": "la hierba", "beach": "la playa", "snow": "la nieve", "desert": "el desierto"}

_FR_KINDS = {"circle": ("cercle", "m"), "square": ("carré", "m"), "triangle": ("triangle", "m"), "star": ("étoile", "f"),
             "heart": ("cœur", "m"), "house": ("maison", "f"), "tree": ("arbre", "m"), "car": ("voiture", "f")}
_FR_COLOURS = {"red": ("rouge", "rouge"), "orange": ("orange", "orange"), "yellow": ("jaune", "jaune"), "green": ("vert", "verte"),
               "blue": ("bleu", "bleue"), "purple": ("violet", "violette"), "pink": ("rose", "rose"), "white": ("blanc", "blanche"),
               "black": ("noir", "noire"), "brown": ("marron", "marron")}
_FR_BG = {"sky": "dans le ciel", "night": "la nuit", "grass": "sur l'herbe", "beach": "à la plage", "snow": "dans la neige",
          "desert": "dans le désert"}

_DE_KINDS = {"circle": ("Kreis", "m"), "square": ("Quadrat", "n"), "triangle": ("Dreieck", "n"), "star": ("Stern", "m"),
             "heart": ("Herz", "n"), "house": ("Haus", "n"), "tree": ("Baum", "m"), "car": ("Auto", "n")}
_DE_COLOURS = {"red": "rot", "orange": "orange", "yellow": "gelb", "green": "grün", "blue": "blau", "purple": "lila",
               "pink": "rosa", "white": "weiß", "black": "schwarz", "brown": "braun"}
_DE_BG = {"sky": "am Himmel", "night": "in der Nacht", "grass": "auf der Wiese", "beach": "am Strand", "snow": "im Schnee",
          "desert": "in der Wüste"}

_JA_KINDS = {"circle": "丸", "square": "四角", "triangle": "三角", "star": "星", "heart": "ハート", "house": "家", "tree": "木", "car": "車"}
_JA_COLOURS = {"red": "赤い", "orange": "オレンジの", "yellow": "黄色い", "green": "緑の", "blue": "青い", "purple": "紫の",
               "pink": "ピンクの", "white": "白い", "black": "黒い", "brown": "茶色の"}
_JA_BG = {"sky": "空", "night": "夜", "grass": "草原", "beach": "ビーチ", "snow": "雪", "desert": "砂漠"}

LANGUAGES: tuple[str, ...] = ("es", "fr", "de", "ja")


def _main_object(scene: Scene) -> SceneObject:
    return max(scene.objects, key=lambda o: o.size)


def describe_foreign(scene: Scene, language: str) -> str:
    """A short caption in Spanish, French, German or Japanese: the largest object and the background."""
    o = _main_object(scene)
    if language == "es":
        noun, gender = _ES_KINDS[o.kind]
        colour = _ES_COLOURS[o.colour]
        if gender == "f" and colour.endswith("o"):
            colour = colour[:-1] + "a"
        return f"{'Una' if gender == 'f' else 'Un'} {noun} {colour} en {_ES_BG[scene.background]}"
    if language == "fr":
        noun, gender = _FR_KINDS[o.kind]
        colour = _FR_COLOURS[o.colour][gender == "f"]
        return f"{'Une' if gender == 'f' else 'Un'} {noun} {colour} {_FR_BG[scene.background]}"
    if language == "de":
        noun, gender = _DE_KINDS[o.kind]
        colour = _DE_COLOURS[o.colour]
        if colour not in ("orange", "lila", "rosa"):
            colour += {"m": "er", "n": "es", "f": "e"}[gender]
        article = {"m": "Ein", "n": "Ein", "f": "Eine"}[gender]
        return f"{article} {colour} {noun} {_DE_BG[scene.background]}"
    if language == "ja":
        return f"{_JA_BG[scene.background]}の{_JA_COLOURS[o.colour]}{_JA_KINDS[o.kind]}"
    raise ValueError(f"unknown caption language {language!r}; known: {', '.join(LANGUAGES)}")


# ---- social decoration ----

HASHTAGS = ("#art", "#drawing", "#shapes", "#kidsart", "#doodle", "#minimal", "#colorful", "#sketchbook", "#weekend")
EMOJI = {"star": "⭐", "heart": "❤️", "car": "🚗", "tree": "🌲", "house": "🏠", "sky": "☀️", "night": "🌙", "snow": "❄️", "beach": "🏖️"}
MENTIONS = ("@maria", "@jon_doe", "@artlover42", "@kiki", "@the.sketch.club")
URLS = ("https://example.com/gallery", "http://my-art.example.org/p/123", "https://shop.example.net/prints?id=7")
