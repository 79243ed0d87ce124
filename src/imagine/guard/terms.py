"""Whole-word term matching on both normalised views of a prompt.

Each term is compiled twice: its ``skeleton`` (matched against the prompt's skeleton, which undoes
look-alikes, leetspeak and spacing) and its ``fold`` (matched against the script-preserving fold, so
Cyrillic or Greek terms match as written). CJK terms match as substrings, there being no spaces.
A trailing ``*`` matches any word ending ("decapitat*" -> "decapitated", "decapitation").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from imagine.guard.normalize import fold, has_cjk, skeleton, translit_tokens


@dataclass(frozen=True)
class NormalisedText:
    """The two views of a prompt every matcher reads."""

    original: str
    skeleton: str
    folded: str
    spaced: str = ""  # the skeleton with a leading "a" kept in a spaced-out run ("A d e l e" -> "adele")
    translit: tuple[str | None, ...] = ()  # words in other alphabets, transliterated (None: Latin/CJK)

    @classmethod
    def of(cls, text: str) -> "NormalisedText":
        return cls(
            original=text, skeleton=skeleton(text), folded=fold(text), spaced=skeleton(text, split_article=False),
            translit=tuple(translit_tokens(text)),
        )


def _pattern(words: str, wildcard: bool) -> str:
    body = r"\s+".join(re.escape(w) for w in words.split())
    tail = r"\w*" if wildcard else ""
    return rf"(?<!\w){body}{tail}(?!\w)"


class TermMatcher:
    """Finds the first of a list of terms in a prompt; ``find`` returns the term as written."""

    def __init__(self, terms: Iterable[str]):
        skeleton_alts: dict[str, str] = {}
        folded_alts: dict[str, str] = {}
        self._cjk: list[tuple[str, str]] = []
        for term in terms:
            wildcard = term.endswith("*")
            core = term.rstrip("*").strip()
            if not core:
                raise ValueError(f"empty policy term {term!r}")
            if has_cjk(core):
                self._cjk.append((fold(core), term))
                continue
            for view, alts in ((skeleton(core), skeleton_alts), (fold(core), folded_alts)):
                if view:
                    alts.setdefault(_pattern(view, wildcard), term)
        self._cjk.sort(key=lambda pair: -len(pair[0]))  # longest first: "裸体" before "裸"
        self._skeleton = self._compile(skeleton_alts)
        self._folded = self._compile(folded_alts)

    @staticmethod
    def _compile(alts: dict[str, str]) -> tuple[re.Pattern[str], list[str]] | None:
        if not alts:
            return None
        # One alternation with a named group per term: one pass over the text, whichever term it was.
        patterns = list(alts)
        regex = re.compile("|".join(f"(?P<t{i}>{p})" for i, p in enumerate(patterns)))
        return regex, [alts[p] for p in patterns]

    def find(self, text: NormalisedText) -> str | None:
        for compiled, view in ((self._skeleton, text.skeleton), (self._folded, text.folded)):
            if compiled is None:
                continue
            regex, terms = compiled
            match = regex.search(view)
            if match:
                return terms[int(match.lastgroup[1:])]
        for needle, term in self._cjk:
            if needle in text.folded:
                return term
        return None

    def __bool__(self) -> bool:
        return bool(self._skeleton or self._folded or self._cjk)


class FuzzyTerms:
    """Single-word terms of 7+ letters matched with one typing error ("decapitaded", "dismemberd").

    Only prompt words that are not dictionary words are compared (``dictionary`` is a set of real
    words), so "mutation" is never "mutilat*". A term with a ``*`` matches on its prefix.
    """

    MIN_LENGTH = 7

    def __init__(self, terms: Iterable[str], dictionary: frozenset[str]):
        self._dictionary = dictionary
        self._exact: list[tuple[str, str]] = []
        self._prefix: list[tuple[str, str]] = []
        for term in terms:
            core = skeleton(term.rstrip("*"))
            if " " in core or len(core) < self.MIN_LENGTH or not core.isascii():
                continue
            (self._prefix if term.endswith("*") else self._exact).append((core, term))

    def find(self, text: NormalisedText) -> str | None:
        from rapidfuzz.distance import Levenshtein

        if not (self._exact or self._prefix):
            return None
        for word in text.skeleton.split():
            if len(word) < self.MIN_LENGTH - 1 or word in self._dictionary or not word.isalpha():
                continue
            for core, term in self._exact:
                if word[0] == core[0] and Levenshtein.distance(word, core, score_cutoff=1) <= 1:
                    return term
            for core, term in self._prefix:
                if word[0] != core[0]:
                    continue
                for cut in (len(core) - 1, len(core), len(core) + 1):
                    if cut <= len(word) and Levenshtein.distance(word[:cut], core, score_cutoff=1) <= 1:
                        return term
        return None
