"""Text normalisation that undoes the usual ways of slipping a word past a filter.

NFKC + casefold alone only fixes full-width letters. A prompt can also hide a name or a term
behind zero-width characters, accents, Cyrillic/Greek look-alikes ("Таylor"), leetspeak
("t4yl0r"), or spacing ("t a y l o r"). Two views of a prompt are produced:

- ``fold(text)``: script-preserving (NFKC, zero-width/format characters removed, casefold,
  accents stripped via NFKD). Used for the per-language term lists (Cyrillic stays Cyrillic).
- ``skeleton(text)``: ASCII-leaning tokens for English terms, names and embeddings: ``fold``
  plus the Unicode confusables map (via ``confusable_homoglyphs``' bundled data), leetspeak
  inside tokens that mix letters with digits/symbols, punctuation split, and runs of single
  letters rejoined.
- ``translit_tokens(text)``: words written in Cyrillic, Arabic, Devanagari, Greek and other
  alphabetic scripts, transliterated to ASCII with ``anyascii`` (a look-alike map turns real
  Russian into nonsense; a transliteration turns "Путин" into "putin"). Russian and Ukrainian
  words lose their case ending first ("Путина", "Путиным" -> "путин"), so inflected names match.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from anyascii import anyascii

# Leetspeak substitutions, applied only inside tokens that also hold a letter ("s3x", "t@ylor")
# so that plain numbers ("3 red cars", "2024") are left alone.
LEET: dict[str, str] = {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "i", "|": "l", "+": "t", "€": "e", "£": "l",
}

# Look-alikes the confusables data maps to something non-ASCII (β→ß, κ→ĸ, τ→ᴛ) or not at all.
_EXTRA_HOMOGLYPHS: dict[str, str] = {
    "β": "b", "κ": "k", "τ": "t", "η": "n", "ν": "v", "ι": "i", "χ": "x", "γ": "y", "μ": "u",
    "т": "t", "к": "k", "м": "m", "н": "h", "в": "b", "ш": "w", "п": "n", "г": "r", "ѡ": "w",
    "ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ı": "i", "ß": "ss", "æ": "ae", "œ": "oe",
}

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# Words for transliteration split on spaces and punctuation only: Devanagari vowel signs are not \w.
_WORD_SPLIT = re.compile(r"[\s\u060c\u061f\u0964\u0965.,;:!?\"'()\[\]{}<>/\\|@#$%^&*+=~`_\-]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# Russian/Ukrainian noun and adjective endings, longest first; a stem keeps at least 3 letters.
_CYRILLIC_ENDINGS = tuple(sorted(
    "ами ями ого его ому ему ыми ими ой ей ий ый ая яя ое ее ые ие ую юю ом ем ам ям ах ях ов ев ым им а я у ю е ы и о ь".split(),
    key=len, reverse=True,
))
_TOKEN_SPLIT = re.compile(r"[^\w]+|_+")
_ORDINAL = re.compile(r"\d+(st|nd|rd|th|s)")  # "45th", "1990s" are not leetspeak


@lru_cache(maxsize=1)
def homoglyph_map() -> dict[str, str]:
    """Non-ASCII character -> ASCII look-alike, from the Unicode confusables data (offline)."""
    import confusable_homoglyphs

    data = json.loads((Path(confusable_homoglyphs.__file__).parent / "confusables.json").read_text(encoding="utf-8"))
    mapping: dict[str, str] = {}
    for char, entries in data.items():
        if len(char) != 1 or ord(char) < 128:
            continue
        for entry in entries:
            target = entry["c"]
            if len(target) == 1 and target.isascii() and target.isalnum():
                mapping[char] = target.lower()
                break
    mapping.update(_EXTRA_HOMOGLYPHS)
    return mapping


def strip_format_chars(text: str) -> str:
    """Drop zero-width and other invisible format characters (Unicode category Cf) and soft hyphens."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def _strip_accents(text: str) -> str:
    """NFKC, invisible characters removed, accents stripped via NFKD; case kept."""
    text = strip_format_chars(unicodedata.normalize("NFKC", text))
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def fold(text: str) -> str:
    """Script-preserving fold: NFKC, invisible characters removed, casefold, accents stripped."""
    return _strip_accents(text).casefold()


def _map_homoglyphs(text: str) -> str:
    table = homoglyph_map()
    out = []
    for ch in text:
        if ch.isascii():
            out.append(ch)
        elif _CJK.match(ch):
            out.append(ch)
        else:
            out.append(table.get(ch) or table.get(ch.upper()) or ch)
    return "".join(out)


def _unleet(token: str) -> str:
    token = token.strip(".,!?;:\"'()[]{}")
    if _ORDINAL.fullmatch(token):
        return token
    if not any(ch.isalpha() for ch in token) or not any(ch in LEET for ch in token):
        return token
    return "".join(LEET.get(ch, ch) for ch in token)


def _join_letter_runs(tokens: list[str], split_article: bool = True) -> list[str]:
    """'t a y l o r' -> 'taylor': three or more single-letter tokens in a row are one word.

    With ``split_article``, a leading "a"/"i" stays a word ("a n u d e" -> "a nude"); without,
    it is part of the run ("A d e l e" -> "adele"). Callers that need both read both.
    """
    out: list[str] = []
    run: list[str] = []
    for token in tokens + [""]:
        if len(token) == 1 and token.isalpha():
            run.append(token)
            continue
        if split_article and len(run) >= 4 and run[0] in ("a", "i"):
            out.append(run.pop(0))  # "a n u d e" is "a" + "nude", not "anude"
        if len(run) >= 3:
            out.append("".join(run))
        else:
            out.extend(run)
        run = []
        if token:
            out.append(token)
    return out


def skeleton_tokens(text: str, *, split_article: bool = True) -> list[str]:
    """The prompt as a list of normalised ASCII-leaning words (see module docstring)."""
    # Look-alikes are mapped before casefolding: capital Greek/Cyrillic letters have their own
    # Latin twins (Greek 'Υ' looks like 'Y', its lowercase 'υ' like 'u').
    folded = _map_homoglyphs(_strip_accents(text)).casefold()
    tokens: list[str] = []
    for raw in folded.split():
        for part in _TOKEN_SPLIT.split(_unleet(raw)):
            if part:
                tokens.append(part)
    return _join_letter_runs(tokens, split_article)


def skeleton(text: str, *, split_article: bool = True) -> str:
    """``skeleton_tokens`` joined by single spaces."""
    return " ".join(skeleton_tokens(text, split_article=split_article))


def has_cjk(text: str) -> bool:
    """Whether the text holds Chinese, Japanese or Korean characters (no word boundaries there)."""
    return bool(_CJK.search(text))


def cyrillic_stem(word: str) -> str:
    """A Russian/Ukrainian word without its case ending ("путиным" -> "путин", "обамой" -> "обам")."""
    for ending in _CYRILLIC_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


def translit_tokens(text: str) -> list[str | None]:
    """Each word of ``fold(text)`` transliterated to lowercase ASCII letters and digits, or None.

    None marks a word that needs no transliteration (Latin script, digits) or that has no word
    boundaries to speak of (CJK, kana, Hangul: matched as written). Cyrillic words are stemmed first.
    """
    out: list[str | None] = []
    for word in _WORD_SPLIT.split(fold(text)):
        if not word or word.isascii() or _CJK.search(word):
            if word:
                out.append(None)
            continue
        if _CYRILLIC.search(word):
            word = cyrillic_stem(word)
        ascii_word = "".join(ch for ch in anyascii(word).lower() if ch.isalnum())
        out.append(ascii_word or None)
    return out
