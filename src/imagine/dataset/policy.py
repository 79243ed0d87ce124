"""The consent policy: a versioned TOML file (see ``policies/default.toml``)."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

DEFAULT_POLICY_PATH = Path(__file__).resolve().parent / "policies" / "default.toml"

_NON_ENGLISH_RULES = ("exclude", "keep_empty")
_EMPTY_RULES = ("keep", "exclude")
_TOO_LONG_RULES = ("truncate", "exclude")


def _parse_ts(value: str | datetime | date | None, key: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    else:
        try:
            dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"policy: {key} = {value!r} is not an ISO 8601 date") from exc
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Policy:
    """Who may be used for training; every rule maps to one exclusion reason."""

    name: str
    version: str
    allowed_visibilities: frozenset[str] = frozenset({"public"})
    min_age: int = 18
    excluded_regions: frozenset[str] = frozenset()
    opt_in_only_regions: frozenset[str] = frozenset()
    created_after: datetime | None = None
    created_before: datetime | None = None
    as_of: datetime | None = None
    non_english: str = "exclude"
    empty_caption: str = "keep"
    max_caption_chars: int = 500
    too_long_caption: str = "truncate"
    max_raw_caption_chars: int = 10_000
    revoke_near_duplicates: bool = True
    digest: str = ""
    source: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    @classmethod
    def load(cls, path: Path | str | None = None) -> "Policy":
        """Read and validate a policy file; ``None`` is the shipped default."""
        path = Path(path) if path is not None else DEFAULT_POLICY_PATH
        if not path.is_file():
            raise FileNotFoundError(f"policy file {path} does not exist")
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
        p = data.get("policy")
        if not isinstance(p, dict):
            raise ValueError(f"{path}: missing [policy] table")
        for key in ("name", "version"):
            if not p.get(key):
                raise ValueError(f"{path}: [policy] needs a non-empty {key!r}")
        known = {"name", "version", "allowed_visibilities", "min_age", "excluded_regions",
                 "opt_in_only_regions", "created_after", "created_before", "as_of"}
        unknown = set(p) - known
        if unknown:
            raise ValueError(f"{path}: unknown [policy] keys {sorted(unknown)}")
        captions = data.get("captions", {})
        non_english = captions.get("non_english", "exclude")
        empty = captions.get("empty", "keep")
        if non_english not in _NON_ENGLISH_RULES:
            raise ValueError(f"{path}: captions.non_english must be one of {_NON_ENGLISH_RULES}")
        if empty not in _EMPTY_RULES:
            raise ValueError(f"{path}: captions.empty must be one of {_EMPTY_RULES}")
        too_long = captions.get("too_long", "truncate")
        if too_long not in _TOO_LONG_RULES:
            raise ValueError(f"{path}: captions.too_long must be one of {_TOO_LONG_RULES}")
        max_chars = int(captions.get("max_chars", 500))
        max_raw = int(captions.get("max_raw_chars", 10_000))
        if not 1 <= max_chars <= max_raw:
            raise ValueError(f"{path}: captions needs 1 <= max_chars <= max_raw_chars, got {max_chars}, {max_raw}")
        unknown = set(captions) - {"non_english", "empty", "too_long", "max_chars", "max_raw_chars"}
        if unknown:
            raise ValueError(f"{path}: unknown [captions] keys {sorted(unknown)}")
        revocation = data.get("revocation", {})
        unknown = set(revocation) - {"near_duplicates"}
        if unknown:
            raise ValueError(f"{path}: unknown [revocation] keys {sorted(unknown)}")
        near = revocation.get("near_duplicates", True)
        if not isinstance(near, bool):
            raise ValueError(f"{path}: revocation.near_duplicates must be true or false")
        visibilities = p.get("allowed_visibilities", ["public"])
        if not visibilities:
            raise ValueError(f"{path}: allowed_visibilities is empty, nothing could ever be used")
        return cls(
            name=str(p["name"]),
            version=str(p["version"]),
            allowed_visibilities=frozenset(visibilities),
            min_age=int(p.get("min_age", 18)),
            excluded_regions=frozenset(r.upper() for r in p.get("excluded_regions", [])),
            opt_in_only_regions=frozenset(r.upper() for r in p.get("opt_in_only_regions", [])),
            created_after=_parse_ts(p.get("created_after"), "created_after"),
            created_before=_parse_ts(p.get("created_before"), "created_before"),
            as_of=_parse_ts(p.get("as_of"), "as_of"),
            non_english=non_english,
            empty_caption=empty,
            max_caption_chars=max_chars,
            too_long_caption=too_long,
            max_raw_caption_chars=max_raw,
            revoke_near_duplicates=near,
            digest=hashlib.sha256(raw).hexdigest(),
            source=str(path),
        )

    @property
    def label(self) -> str:
        """``name@version``: what rows and cards record."""
        return f"{self.name}@{self.version}"
