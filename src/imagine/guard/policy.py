"""The prompt policy: refuse prompts that name or describe protected people, or ask for unsafe content.

    policy = PromptPolicy.load()           # once: reads data files, loads MiniLM, embeds descriptions
    decision = policy.check("a pop singer performing 'Blank Space'")
    decision.to_dict()  # {"allowed": False, "category": "likeness", "code": "likeness.described_person", ...}

A check runs cheap lexical stages first and the semantic stage only when they find nothing:

1. allow-listed phrases are cut out of the prompt ("chicken breast", "king charles spaniel");
2. categories that need co-occurrence ("sexual_minors": a minor cue + a sexual or suggestive term);
3. protected names, misspelt or disguised (``names``);
4. unsafe terms per category, English and per-language lists (``terms``);
5. a protected person's distinctive work or phrase next to a person cue ("singer ... Blank Space");
6. MiniLM similarity to category and person descriptions, which must beat benign anchors by a margin.

Every refusal carries a category, a stable code and a reason; codes are part of the public contract
(``likeness.named_person``, ``likeness.described_person``, ``unsafe.<category>``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from imagine.guard.names import NameMatcher
from imagine.guard.normalize import fold, skeleton
from imagine.guard.policy_data import Category, PolicyData, load_policy_data
from imagine.guard.terms import NormalisedText, TermMatcher

if TYPE_CHECKING:
    from imagine.config import Settings

log = logging.getLogger(__name__)

LIKENESS = "likeness"
NAMED_PERSON = "likeness.named_person"
DESCRIBED_PERSON = "likeness.described_person"


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
    """A category's compiled term, cue and combine lists."""

    def __init__(self, category: Category):
        self.category = category
        self.terms = TermMatcher(category.all_terms())
        self.cues = TermMatcher(category.all_cues())
        self.combine = TermMatcher(category.combine_terms)

    def refuse(self, matched: str, how: str = "") -> PolicyDecision:
        reason = self.category.reason + (f" ({how})" if how else "")
        return PolicyDecision(False, self.category.name, self.category.code, reason, matched)


class PromptPolicy:
    """Checks prompts against protected people and unsafe categories; build with ``load``."""

    def __init__(self, data: PolicyData, *, allow: Iterable[str] = (), semantic: bool = True, cache_dir: Path | None = None):
        self.data = data
        self.semantic = semantic
        self._allow = self._compile_allow((*data.allow, *allow))
        self._rules = [_CategoryRules(c) for c in data.categories if c.enabled]
        self._by_name = {r.category.name: r for r in self._rules}
        self._names = NameMatcher(data.people, data.person_cues)
        self._person_cues = TermMatcher(data.person_cues)
        self._works = [(p, TermMatcher(p.works)) for p in data.people if p.works]
        self._people_by_id = {p.id: p for p in data.people}
        if semantic:
            self._build_semantic(cache_dir)

    @classmethod
    def load(cls, path: Path | Sequence[Path] | None = None, *, settings: "Settings | None" = None, semantic: bool | None = None) -> "PromptPolicy":
        """The shipped policy extended by operator files.

        ``path``: an operator TOML file, a folder of them, or a list; None means the files named
        in ``settings.guard.policy_files``. Allow-list phrases from ``settings.guard.policy_allow``
        are always added; ``settings.guard.policy_defaults = false`` drops the shipped data.
        """
        from imagine.config import get_settings

        settings = settings or get_settings()
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
            body = "|".join(r"\s+".join(map(re.escape, a.split())) for a in alts)
            return re.compile(rf"(?<!\w)(?:{body})(?!\w)")

        phrases = list(phrases)
        return build({skeleton(p) for p in phrases}), build({fold(p) for p in phrases})

    def _build_semantic(self, cache_dir: Path | None) -> None:
        from imagine.guard.semantic import SemanticIndex, load_encoder

        load_encoder()  # now, not on the first check: load once, check fast
        texts, labels = [], []
        for rule in self._rules:
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
        text = self._strip_allowed(NormalisedText.of(prompt))
        if not text.skeleton.strip() and not text.folded.strip():
            return ALLOWED
        return self._lexical(text) or (self._semantic(text) if self.semantic else None) or ALLOWED

    def check_many(self, prompts: Iterable[str]) -> list[PolicyDecision]:
        return [self.check(p) for p in prompts]

    def _strip_allowed(self, text: NormalisedText) -> NormalisedText:
        skeleton_re, folded_re = self._allow
        if skeleton_re is None:
            return text
        return replace(
            text,
            skeleton=" ".join(skeleton_re.sub(" ", text.skeleton).split()),
            spaced=" ".join(skeleton_re.sub(" ", text.spaced).split()),
            folded=folded_re.sub(" ", text.folded) if folded_re is not None else text.folded,
        )

    def _lexical(self, text: NormalisedText) -> PolicyDecision | None:
        # Co-occurrence categories first: "sexy" + "child" is worse than either alone.
        for rule in self._rules:
            if rule.category.requires is None:
                continue
            term = rule.terms.find(text)
            if term:
                return rule.refuse(term)
            cue = rule.cues.find(text) if rule.cues else None
            if cue:
                required = self._by_name.get(rule.category.requires)
                other = (required.terms.find(text) if required else None) or rule.combine.find(text)
                if other:
                    return rule.refuse(f"{cue} + {other}")
        hit = self._names.find(text)
        if hit is not None:
            how = "named" if hit.distance == 0 else f"spelt {hit.text!r}"
            return PolicyDecision(
                False, LIKENESS, NAMED_PERSON,
                f"The prompt names a protected real person ({hit.person.name}, {how}); images of real people are not generated.",
                hit.person.name,
            )
        for rule in self._rules:
            if rule.category.requires is None:
                term = rule.terms.find(text)
                if term:
                    return rule.refuse(term)
        if self._works and self._person_cues.find(text):
            for person, works in self._works:
                work = works.find(text)
                if work:
                    return self._described(person.name, f"mentions {work!r} with a person")
        return None

    def _described(self, name: str, how: str) -> PolicyDecision:
        return PolicyDecision(
            False, LIKENESS, DESCRIBED_PERSON,
            f"The prompt describes a protected real person ({name}: {how}); images of real people are not generated.",
            name,
        )

    def _semantic(self, text: NormalisedText) -> PolicyDecision | None:
        from imagine.guard.semantic import encode

        vector = encode([text.skeleton or text.folded])[0]
        candidates: list[tuple[float, PolicyDecision]] = []
        anchor = self._unsafe_anchors.max_similarity(vector)
        for name, (sim, sentence) in self._unsafe_index.best_per_label(vector).items():
            rule = self._by_name[name]
            c = rule.category
            if sim >= c.threshold and sim - anchor >= c.margin:
                candidates.append((sim - c.threshold, rule.refuse(sentence, f"similar to {sentence!r}, {sim:.2f}")))
        # Co-occurrence categories ("sexual_minors" requires "sexual"): a semantic hit on either
        # counts as the co-occurrence category only when one of its cues (a minor) is present;
        # otherwise it is reported under the category it requires.
        for rule in self._rules:
            required = rule.category.requires
            if required is None or required not in self._by_name:
                continue
            hit = [(score, d) for score, d in candidates if d.category in (rule.category.name, required)]
            if not hit:
                continue
            cue = rule.cues.find(text)
            if cue:
                return rule.refuse(cue, "in a sexual context" if required == "sexual" else f"with {required}")
            candidates = [
                (score, replace(d, category=required, code=self._by_name[required].category.code, reason=self._by_name[required].category.reason))
                if d.category == rule.category.name else (score, d)
                for score, d in candidates
            ]
        anchor = self._people_anchors.max_similarity(vector)
        t, m = self.data.likeness_threshold, self.data.likeness_margin
        for pid, (sim, sentence) in self._people_index.best_per_label(vector).items():
            if sim >= t and sim - anchor >= m:
                person = self._people_by_id[pid]
                candidates.append((sim - t, self._described(person.name, f"similar to {sentence!r}, {sim:.2f}")))
            break  # best_per_label is ordered by similarity: only the closest person matters
        if not candidates:
            return None
        return max(candidates, key=lambda c: c[0])[1]

    def scores(self, prompt: str) -> dict[str, float]:
        """Semantic similarities behind a decision (best per category/person and anchors), for tuning."""
        from imagine.guard.semantic import encode

        if not self.semantic:
            raise RuntimeError("this policy was loaded with semantic=False")
        text = self._strip_allowed(NormalisedText.of(prompt))
        vector = encode([text.skeleton or text.folded])[0]
        out = {k: v[0] for k, v in self._unsafe_index.best_per_label(vector).items()}
        out["anchor.unsafe"] = self._unsafe_anchors.max_similarity(vector)
        people = self._people_index.best_per_label(vector)
        if people:
            pid, (sim, _) = next(iter(people.items()))
            out[f"person.{pid}"] = sim
        out["anchor.likeness"] = self._people_anchors.max_similarity(vector)
        return out
