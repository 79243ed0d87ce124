"""The prompt policy: refuse prompts that name or describe protected people, or ask for unsafe content.

    policy = PromptPolicy.load()           # once: data files, MiniLM (numpy), the learned check
    decision = policy.check("a pop singer performing 'Blank Space'")
    decision.to_dict()  # {"allowed": False, "category": "likeness", "code": "likeness.described_person", ...}

A check reads the word lists once (``Findings``), then decides, cheapest first:

1. allow-listed phrases are cut out of the prompt ("chicken breast", "trump card", "裸足");
2. child safety: a child-safety term, or any minor cue (a word, an age under 18) together with
   any sexual or suggestive word, however mild ("sexy", "lingerie", "posing on the bed");
3. protected names in any script, misspelt or disguised (``names``);
4. unsafe terms per category; a dual-use ("soft") term refuses only without a context word
   ("nude" + "shoes", "suicide" + "prevention poster", "blood" + "fake"); misspelt long terms;
5. a protected person's distinctive work, song or role next to a person word ("singer ... Blank Space");
6. the learned check (``policy_model``): a logistic regression over the prompt's MiniLM embedding
   and the lexical findings, one calibrated threshold per category; operator categories that it
   does not know use description similarity; a description of a person is compared with the
   protected people's only when the prompt calls someone famous ("the singer who ...").

Every refusal carries a category, a stable code and a reason that names the rule in plain words;
codes are part of the public contract (``likeness.named_person``, ``likeness.described_person``,
``unsafe.<category>``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from imagine.guard.names import NameMatcher, dictionary_words
from imagine.guard.normalize import fold, has_cjk, skeleton
from imagine.guard.policy_data import Category, PolicyData, load_policy_data
from imagine.guard.policy_model import CATEGORIES, Findings, PolicyModel
from imagine.guard.terms import FuzzyTerms, NormalisedText, TermMatcher

if TYPE_CHECKING:
    from imagine.config import Settings

log = logging.getLogger(__name__)

LIKENESS = "likeness"
NAMED_PERSON = "likeness.named_person"
DESCRIBED_PERSON = "likeness.described_person"
LIKENESS_RULE = "Refused by the real-person rule"

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
}
_NUMBER = r"(\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")"
# An age: "13 year old", "13-year-old", "13yo", "13 y/o", "aged 13", "age 13", "13 años", "13 лет", "13歳", "13살".
_AGE = re.compile(
    rf"(?<![\w.]){_NUMBER}[\s-]*(?:years?|yrs?|y/?o|anos|ans|jahre|jahrige|anni|лет|года|год)(?![a-z])"
    rf"|\bage[ds]?\s*{_NUMBER}\b|{_NUMBER}\s*(?:歳|岁|살)"
)


def minor_age(text: str) -> bool:
    """Whether the prompt states an age under 18 ("a 12-year-old", "aged 15", "13歳")."""
    for match in _AGE.finditer(fold(text)):
        value = next(g for g in match.groups() if g)
        age = int(value) if value.isdigit() else _NUMBER_WORDS[value]
        if age < 18:
            return True
    return False


@dataclass(frozen=True)
class PolicyDecision:
    """The verdict on one prompt; a refusal says which rule, in words and as a stable code."""

    allowed: bool
    category: str | None = None
    code: str | None = None
    reason: str | None = None
    matched: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


ALLOWED = PolicyDecision(allowed=True)


class _CategoryRules:
    """A category's compiled term, soft-term, context, cue and combine lists."""

    def __init__(self, category: Category, dictionary: frozenset[str]):
        self.category = category
        self.terms = TermMatcher(category.all_terms())
        self.fuzzy = FuzzyTerms(category.all_terms(), dictionary)
        self.soft = TermMatcher(category.all_soft_terms())
        self.context = TermMatcher(category.all_context())
        self.cues = TermMatcher(category.all_cues())
        self.combine = TermMatcher(category.all_combine_terms())
        self.combine_fuzzy = FuzzyTerms(category.all_combine_terms(), dictionary)

    def refuse(self, matched: str | None, how: str = "") -> PolicyDecision:
        reason = self.category.reason + (f" ({how})" if how else "")
        return PolicyDecision(False, self.category.name, self.category.code, reason, matched)


class PromptPolicy:
    """Checks prompts against protected people and unsafe categories; build with ``load``."""

    def __init__(self, data: PolicyData, *, allow: Iterable[str] = (), semantic: bool = True,
                 cache_dir: Path | None = None, model: PolicyModel | None = None):
        self.data = data
        self.semantic = semantic
        self._allow = self._compile_allow((*data.allow, *allow))
        dictionary = dictionary_words()
        self._rules = [_CategoryRules(c, dictionary) for c in data.categories if c.enabled]
        self._by_name = {r.category.name: r for r in self._rules}
        self._names = NameMatcher(data.people, data.person_cues)
        self._person_cues = TermMatcher(data.person_cues)
        self._fame_cues = TermMatcher(data.fame_cues)
        self._works = [(p, TermMatcher(p.works)) for p in data.people if p.works]
        self._people_by_id = {p.id: p for p in data.people}
        self.model: PolicyModel | None = None
        if semantic:
            self._build_semantic(cache_dir, model)

    @classmethod
    def load(cls, path: Path | Sequence[Path] | None = None, *, settings: "Settings", semantic: bool | None = None) -> "PromptPolicy":
        """The shipped policy extended by operator files.

        ``path``: an operator TOML file, a folder of them, or a list; None means the files named
        in ``settings.guard.policy_files``. Allow-list phrases from ``settings.guard.policy_allow``
        are always added; ``settings.guard.policy_defaults = false`` drops the shipped data.
        """
        guard = settings.guard
        if path is None:
            files = list(guard.policy_files)
        elif isinstance(path, (str, Path)):
            path = Path(path)
            if path.is_dir():
                files = sorted(path.glob("*.toml"))
                if not files:
                    raise FileNotFoundError(f"no *.toml policy files in {path}")
            else:
                files = [path]
        else:
            files = [Path(p) for p in path]
        data = load_policy_data(files, include_defaults=guard.policy_defaults)
        cache_dir = settings.data_home / "cache" if settings.data_home.is_dir() else None
        return cls(data, allow=guard.policy_allow, semantic=guard.policy_semantic if semantic is None else semantic, cache_dir=cache_dir)

    # -- set-up ---------------------------------------------------------------------------------

    @staticmethod
    def _compile_allow(phrases: Iterable[str]) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
        def build(views: set[str]) -> re.Pattern[str] | None:
            alts = sorted((v for v in views if v), key=len, reverse=True)
            if not alts:
                return None
            # Whole words, except in scripts without spaces: "裸足" is cut out of "裸足で歩く".
            body = "|".join(
                "".join(map(re.escape, a.split())) if has_cjk(a) else r"(?<!\w)" + r"\s+".join(map(re.escape, a.split())) + r"(?!\w)"
                for a in alts
            )
            return re.compile(body)

        phrases = list(phrases)
        return build({skeleton(p) for p in phrases if not has_cjk(p)}), build({fold(p) for p in phrases})

    def _build_semantic(self, cache_dir: Path | None, model: PolicyModel | None) -> None:
        from imagine.guard.semantic import SemanticIndex, load_encoder

        load_encoder()  # now, not on the first check: load once, check fast
        if any(c in self._by_name for c in CATEGORIES):
            self.model = model or PolicyModel.load()
        # Categories the learned check does not know (an operator's) keep description similarity.
        texts, labels = [], []
        for rule in self._rules:
            if rule.category.name not in CATEGORIES:
                texts += list(rule.category.descriptions)
                labels += [rule.category.name] * len(rule.category.descriptions)
        self._unsafe_index = SemanticIndex(texts, labels, cache_dir)
        self._unsafe_anchors = SemanticIndex(list(self.data.unsafe_anchors), ["anchor"] * len(self.data.unsafe_anchors), cache_dir)
        texts, labels = [], []
        for person in self.data.people:
            texts += list(person.descriptions)
            labels += [person.id] * len(person.descriptions)
        self._people_index = SemanticIndex(texts, labels, cache_dir)
        self._people_anchors = SemanticIndex(list(self.data.likeness_anchors), ["anchor"] * len(self.data.likeness_anchors), cache_dir)

    # -- checking -------------------------------------------------------------------------------

    def check(self, prompt: str) -> PolicyDecision:
        """Allowed, or refused with category, code, reason and what matched."""
        if not isinstance(prompt, str):
            raise TypeError(f"prompt must be a str, not {type(prompt).__name__}")
        text = self.normalise(prompt)
        if not text.skeleton.strip() and not text.folded.strip():
            return ALLOWED
        findings = self.find(text)
        return self.lexical(text, findings) or (self._semantic(text, findings) if self.semantic else None) or ALLOWED

    def check_many(self, prompts: Iterable[str]) -> list[PolicyDecision]:
        return [self.check(p) for p in prompts]

    def normalise(self, prompt: str) -> NormalisedText:
        """The prompt's views with allow-listed phrases cut out."""
        text = NormalisedText.of(prompt)
        skeleton_re, folded_re = self._allow
        return replace(
            text,
            skeleton=" ".join(skeleton_re.sub(" ", text.skeleton).split()) if skeleton_re else text.skeleton,
            spaced=" ".join(skeleton_re.sub(" ", text.spaced).split()) if skeleton_re else text.spaced,
            folded=folded_re.sub(" ", text.folded) if folded_re else text.folded,
        )

    def find(self, text: NormalisedText) -> Findings:
        """What every word list finds in the prompt (the lexical rules' and the learned check's input)."""
        terms, soft, context = {}, {}, {}
        minor = suggestive = None
        for rule in self._rules:
            name = rule.category.name
            terms[name] = rule.terms.find(text) or rule.fuzzy.find(text)
            soft[name] = rule.soft.find(text) if rule.soft else None
            context[name] = rule.context.find(text) if rule.context else None
            if rule.category.requires is not None:
                minor = minor or (rule.cues.find(text) if rule.cues else None)
                suggestive = suggestive or (rule.combine.find(text) if rule.combine else None) or rule.combine_fuzzy.find(text)
        return Findings(
            terms=terms, soft=soft, context=context, minor=minor, suggestive=suggestive,
            person=self._person_cues.find(text), fame=self._fame_cues.find(text), minor_age=minor_age(text.original),
        )

    def lexical(self, text: NormalisedText, found: Findings) -> PolicyDecision | None:
        # Child safety first, and broad: any minor cue with any sexual or suggestive word.
        for rule in self._rules:
            category = rule.category
            if category.requires is None:
                continue
            if found.terms[category.name]:
                return rule.refuse(found.terms[category.name])
            cue = found.minor or ("an age under 18" if found.minor_age else None)
            if cue:
                other = found.terms.get(category.requires) or found.soft.get(category.requires) or found.suggestive
                if other:
                    return rule.refuse(f"{cue} + {other}")
        hit = self._names.find(text)
        if hit is not None:
            how = "" if hit.distance == 0 else f", spelt {hit.text!r}"
            return PolicyDecision(
                False, LIKENESS, NAMED_PERSON,
                f"{LIKENESS_RULE}: the prompt names {hit.person.name}{how}, a protected real person; images of real people are not generated.",
                hit.person.name,
            )
        for rule in self._rules:
            name = rule.category.name
            if rule.category.requires is not None:
                continue
            if found.terms[name]:
                return rule.refuse(found.terms[name])
            if found.soft[name] and not found.context[name]:
                return rule.refuse(found.soft[name])
        if self._works and found.person:
            for person, works in self._works:
                work = works.find(text)
                if work:
                    return self._described(person.name, f"mentions {work!r} with a person")
        return None

    def _described(self, name: str, how: str) -> PolicyDecision:
        return PolicyDecision(
            False, LIKENESS, DESCRIBED_PERSON,
            f"{LIKENESS_RULE}: the prompt describes {name}, a protected real person ({how}); images of real people are not generated.",
            name,
        )

    def embed(self, text: NormalisedText):
        from imagine.guard.semantic import encode

        return encode([text.skeleton or text.folded])[0]

    def _semantic(self, text: NormalisedText, found: Findings) -> PolicyDecision | None:
        vector = self.embed(text)
        minor = found.minor is not None or found.minor_age
        if self.model is not None:
            probs = self.model.probabilities(vector, found.vector())
            verdict = self.model.decide(probs, minor=minor)
            if verdict is not None and verdict[0] in self._by_name:
                category, score = verdict
                return self._by_name[category].refuse(f"learned check {score:.2f}", f"learned check, score {score:.2f}")
        candidates: list[tuple[float, PolicyDecision]] = []
        if self._unsafe_index.texts:
            anchor = self._unsafe_anchors.max_similarity(vector)
            for name, (sim, sentence) in self._unsafe_index.best_per_label(vector).items():
                rule = self._by_name[name]
                c = rule.category
                if sim >= c.threshold and sim - anchor >= c.margin:
                    candidates.append((sim - c.threshold, rule.refuse(sentence, f"similar to {sentence!r}, {sim:.2f}")))
        if found.fame:
            anchor = self._people_anchors.max_similarity(vector)
            t, m = self.data.likeness_threshold, self.data.likeness_margin
            people = self._people_index.best_per_label(vector)
            if people:
                pid, (sim, sentence) = next(iter(people.items()))  # the closest person only
                if sim >= t and sim - anchor >= m:
                    candidates.append((sim - t, self._described(self._people_by_id[pid].name, f"similar to {sentence!r}, {sim:.2f}")))
        if not candidates:
            return None
        return max(candidates, key=lambda c: c[0])[1]

    def scores(self, prompt: str) -> dict[str, float]:
        """The learned check's probabilities and the closest person's similarity, for tuning."""
        if not self.semantic:
            raise RuntimeError("this policy was loaded with semantic=False")
        text = self.normalise(prompt)
        found = self.find(text)
        vector = self.embed(text)
        out: dict[str, float] = {}
        if self.model is not None:
            out.update({f"p.{k}": v for k, v in self.model.probabilities(vector, found.vector()).items()})
        people = self._people_index.best_per_label(vector)
        if people:
            pid, (sim, _) = next(iter(people.items()))
            out[f"person.{pid}"] = sim
        out["anchor.likeness"] = self._people_anchors.max_similarity(vector)
        return out
