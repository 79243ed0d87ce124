"""The policy's data: protected people, unsafe categories, allow-list, semantic anchors.

Everything the policy knows lives in TOML files, so operators extend it without code: the shipped
files in ``guard/data/`` are read first, then each operator file in order. A later file adds
people and categories, adds terms to a category of the same name (and may override its scalars),
and adds allow-list phrases and anchors. Unknown keys are errors, so a typo is never ignored.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Iterable

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_FILES: tuple[Path, ...] = (
    DATA_DIR / "protected_people.toml", DATA_DIR / "people_scripts.toml", DATA_DIR / "unsafe_categories.toml",
)

_TOP_LEVEL = {"person", "category", "allow", "semantic", "likeness"}


@dataclass(frozen=True)
class Person:
    """A protected person; every name-like field is matched after normalisation."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    ambiguous_aliases: tuple[str, ...] = ()  # ordinary words too ("Drake"): need a person cue
    misspellings: tuple[str, ...] = ()
    works: tuple[str, ...] = ()  # refused together with a person cue ("singer", "actor", ...)
    descriptions: tuple[str, ...] = ()  # for semantic matching

    @property
    def variants(self) -> tuple[str, ...]:
        """Unambiguous spellings: name, aliases and misspellings, minus the ambiguous ones."""
        ambiguous = {a.casefold() for a in self.ambiguous_aliases}
        names = (self.name, *self.aliases, *self.misspellings)
        return tuple(dict.fromkeys(n for n in names if n.casefold() not in ambiguous))


@dataclass(frozen=True)
class Category:
    """An unsafe category: refused by term, by co-occurrence with ``requires``, or semantically."""

    name: str
    code: str
    reason: str
    threshold: float = 0.55
    margin: float = 0.06
    enabled: bool = True
    terms: tuple[str, ...] = ()
    terms_i18n: dict[str, tuple[str, ...]] = field(default_factory=dict)
    soft_terms: tuple[str, ...] = ()  # innocent meanings too: refused unless a context word is present
    soft_terms_i18n: dict[str, tuple[str, ...]] = field(default_factory=dict)
    context: tuple[str, ...] = ()  # art, prevention, costume, colour ...: soft terms go to the learned check
    context_i18n: dict[str, tuple[str, ...]] = field(default_factory=dict)
    requires: str | None = None
    cues: tuple[str, ...] = ()
    cues_i18n: dict[str, tuple[str, ...]] = field(default_factory=dict)
    combine_terms: tuple[str, ...] = ()
    combine_terms_i18n: dict[str, tuple[str, ...]] = field(default_factory=dict)
    descriptions: tuple[str, ...] = ()

    @staticmethod
    def _with_i18n(base: tuple[str, ...], i18n: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
        return base + tuple(t for lang in sorted(i18n) for t in i18n[lang])

    def all_terms(self) -> tuple[str, ...]:
        return self._with_i18n(self.terms, self.terms_i18n)

    def all_soft_terms(self) -> tuple[str, ...]:
        return self._with_i18n(self.soft_terms, self.soft_terms_i18n)

    def all_context(self) -> tuple[str, ...]:
        return self._with_i18n(self.context, self.context_i18n)

    def all_cues(self) -> tuple[str, ...]:
        return self._with_i18n(self.cues, self.cues_i18n)

    def all_combine_terms(self) -> tuple[str, ...]:
        return self._with_i18n(self.combine_terms, self.combine_terms_i18n)


@dataclass(frozen=True)
class PolicyData:
    people: tuple[Person, ...]
    categories: tuple[Category, ...]
    allow: tuple[str, ...]
    unsafe_anchors: tuple[str, ...]
    likeness_anchors: tuple[str, ...]
    person_cues: tuple[str, ...]
    fame_cues: tuple[str, ...]
    likeness_threshold: float
    likeness_margin: float
    sources: tuple[Path, ...]


def _tuple_fields(cls: type) -> set[str]:
    return {f.name for f in fields(cls) if str(f.type).startswith("tuple")}


def _merge_dataclass(obj: Any, table: dict[str, Any], source: Path) -> Any:
    """Lists extend, dicts of lists extend per key, scalars override."""
    known = {f.name for f in fields(obj)}
    unknown = set(table) - known
    if unknown:
        raise ValueError(f"{source}: unknown keys {sorted(unknown)} in {type(obj).__name__.lower()} {table.get('name') or table.get('id')!r}")
    changes: dict[str, Any] = {}
    tuples = _tuple_fields(type(obj))
    for key, value in table.items():
        current = getattr(obj, key)
        if key in tuples:
            if not isinstance(value, list):
                raise ValueError(f"{source}: {key} must be a list")
            changes[key] = tuple(dict.fromkeys((*current, *map(str, value))))
        elif isinstance(current, dict) or key.endswith("_i18n"):
            merged = {k: tuple(v) for k, v in (current or {}).items()}
            for lang, words in value.items():
                merged[lang] = tuple(dict.fromkeys((*merged.get(lang, ()), *words)))
            changes[key] = merged
        else:
            changes[key] = value
    return replace(obj, **changes)


def load_policy_data(paths: Iterable[Path] = (), *, include_defaults: bool = True) -> PolicyData:
    """Read the shipped files (unless ``include_defaults`` is False) and then ``paths`` in order."""
    files = [*(DEFAULT_FILES if include_defaults else ()), *(Path(p) for p in paths)]
    people: dict[str, Person] = {}
    categories: dict[str, Category] = {}
    allow: list[str] = []
    unsafe_anchors: list[str] = []
    likeness_anchors: list[str] = []
    person_cues: list[str] = []
    fame_cues: list[str] = []
    likeness = {"threshold": 0.6, "margin": 0.05}
    for path in files:
        if not path.is_file():
            raise FileNotFoundError(f"policy file {path} does not exist")
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
        unknown = set(doc) - _TOP_LEVEL
        if unknown:
            raise ValueError(f"{path}: unknown sections {sorted(unknown)}; expected some of {sorted(_TOP_LEVEL)}")
        for table in doc.get("person", []):
            pid = table.get("id")
            if not pid:
                raise ValueError(f"{path}: every [[person]] needs an id")
            base = people.get(pid)
            if base is None:
                if not table.get("name"):
                    raise ValueError(f"{path}: person {pid!r} needs a name")
                base = Person(id=pid, name=table["name"])
            people[pid] = _merge_dataclass(base, table, path)
        for table in doc.get("category", []):
            name = table.get("name")
            if not name:
                raise ValueError(f"{path}: every [[category]] needs a name")
            base = categories.get(name)
            if base is None:
                base = Category(name=name, code=table.get("code", f"unsafe.{name}"), reason=table.get("reason", f"Content of category {name!r} is not allowed."))
            categories[name] = _merge_dataclass(base, table, path)
        allow.extend(doc.get("allow", {}).get("phrases", []))
        unsafe_anchors.extend(doc.get("semantic", {}).get("anchors", []))
        section = doc.get("likeness", {})
        likeness_anchors.extend(section.get("anchors", []))
        person_cues.extend(section.get("cues", []))
        fame_cues.extend(section.get("fame_cues", []))
        for key in ("threshold", "margin"):
            if key in section:
                likeness[key] = float(section[key])
    for category in categories.values():
        if category.requires and category.requires not in categories:
            raise ValueError(f"category {category.name!r} requires unknown category {category.requires!r}")
    return PolicyData(
        people=tuple(people.values()),
        categories=tuple(categories.values()),
        allow=tuple(dict.fromkeys(allow)),
        unsafe_anchors=tuple(dict.fromkeys(unsafe_anchors)),
        likeness_anchors=tuple(dict.fromkeys(likeness_anchors)),
        person_cues=tuple(dict.fromkeys(person_cues)),
        fame_cues=tuple(dict.fromkeys(fame_cues)),
        likeness_threshold=likeness["threshold"],
        likeness_margin=likeness["margin"],
        sources=tuple(files),
    )
