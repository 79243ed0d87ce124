"""Consent decisions, policy files and caption rules, on hand-made rows (no pixels involved)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from imagine.dataset import schema as s
from imagine.dataset.caption import clean_caption, looks_english
from imagine.dataset.consent import ConsentStage, Revocation
from imagine.dataset.policy import Policy

UTC = timezone.utc


def _policy(tmp_path, body: str) -> Policy:
    path = tmp_path / "p.toml"
    path.write_text(body)
    return Policy.load(path)


def _row(**kw):
    row = {"post_id": "p1", "visibility": "public", "created_at": datetime(2024, 5, 1, tzinfo=UTC),
           "deleted_at": None, "owner_region": "FR", "owner_birth_year": 1980, "owner_opt_out": False,
           "owner_opt_in": None, "account_deleted_at": None}
    row.update(kw)
    return row


def test_default_policy_loads_and_is_versioned():
    p = Policy.load()
    assert p.version and p.label.startswith("default@")
    assert p.allowed_visibilities == {"public"} and p.min_age == 18
    assert len(p.digest) == 64


@pytest.mark.parametrize("body, error", [
    ("[policy]\nname='x'\n", "version"),
    ("[policy]\nname='x'\nversion='1'\nallowed_visibilities=[]\n", "allowed_visibilities"),
    ("[policy]\nname='x'\nversion='1'\nminimum_age=3\n", "unknown"),
    ("[policy]\nname='x'\nversion='1'\n[captions]\nnon_english='translate'\n", "non_english"),
])
def test_bad_policy_is_a_clear_error(tmp_path, body, error):
    with pytest.raises(ValueError, match=error):
        _policy(tmp_path, body)


def test_each_rule_gives_its_reason(tmp_path):
    pol = _policy(tmp_path, """[policy]
name = "t"
version = "7"
excluded_regions = ["xx"]
opt_in_only_regions = ["YY"]
created_after = "2020-01-01T00:00:00Z"
as_of = "2026-06-01"
""")
    stage = ConsentStage(pol, pol.as_of, {"p9": Revocation("e5", "post_deleted", datetime(2025, 1, 1, tzinfo=UTC))})
    cases = {
        s.INCLUDED: _row(),
        s.NOT_PUBLIC: _row(visibility="friends"),
        s.DELETED: _row(deleted_at=datetime(2024, 6, 1, tzinfo=UTC)),
        s.OWNER_OPTED_OUT: _row(owner_opt_out=True),
        s.OWNER_MINOR: _row(owner_birth_year=2008),  # 17 or 18 on 2026-06-01: counted as 17
        s.REGION_EXCLUDED: _row(owner_region="XX"),
        s.REGION_OPT_IN_REQUIRED: _row(owner_region="YY"),
        s.ACCOUNT_DELETED: _row(account_deleted_at=datetime(2025, 1, 1, tzinfo=UTC), visibility="private"),
        s.OUTSIDE_CUTOFF: _row(created_at=datetime(2019, 1, 1, tzinfo=UTC)),
        s.REVOKED_BY_EVENT: _row(post_id="p9"),
        s.OWNER_UNKNOWN: _row(owner_region=None, owner_birth_year=None, owner_opt_out=None),
    }
    for expected, row in cases.items():
        assert stage.decide(row)[0] == expected, row
    assert stage.decide(_row(owner_region="YY", owner_opt_in=True))[0] == s.INCLUDED
    assert stage.decide(_row(owner_birth_year=2007))[0] == s.INCLUDED
    assert stage.decide(_row(post_id="p9"))[1] == "post_deleted:e5"


@pytest.mark.parametrize("raw, cleaned", [
    ("A red car next to a tree 🌳🚗 #RedCar #instagood @bob https://x.com/a", "A red car next to a tree red car"),
    ("sunset at the beach!!! 😍 via @amy", "sunset at the beach!"),
    ("#nofilter #love", ""),
    (None, ""),
    ("two blue stars #night_sky www.example.com/pic", "two blue stars night sky"),
])
def test_caption_cleaning(raw, cleaned):
    assert clean_caption(raw) == cleaned


@pytest.mark.parametrize("text, english", [
    ("a red circle above a green tree", True),
    ("un cercle rouge sur la plage", False),
    ("una estrella azul en el cielo", False),
    ("Ein roter Stern über dem Haus", False),
    ("夕日の赤い車", False),
    ("blue star", True),
])
def test_language_heuristic(text, english):
    assert looks_english(text) is english
