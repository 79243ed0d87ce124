"""Owner claim codes: random (not from the seed), stored hashed, one message for every failure, throttled."""

from __future__ import annotations

import json
import random

import pyarrow.parquet as pq
from fastapi.testclient import TestClient

from .conftest import csrf_of, sign_up

ONE_MESSAGE = "This claim code is not valid, or it has already been used."


def _api_claim(client, code: str, ip: str | None = None):
    headers = {"X-CSRF-Token": csrf_of(client), **({"X-Forwarded-For": ip} if ip else {})}
    return client.post("/api/owners/claim", json={"code": code}, headers=headers)


def _page_claim(client, code: str):
    return client.post("/owners/claim", data={"code": code, "csrf_token": csrf_of(client)},
                       headers={"Accept": "text/html"}, follow_redirects=False)


def test_codes_cannot_be_recomputed_from_the_seed(world, make_app):
    # How the codes used to be made: random.Random(f"claim-codes:{seed}") over the owners, in file order.
    owners = pq.read_table(world.platform / "owners.parquet").column("owner_id").to_pylist()
    rng = random.Random("claim-codes:0")
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    recomputed = {o: "".join(rng.choice(alphabet) for _ in range(10)) for o in owners}
    assert not set(recomputed.values()) & set(world.codes().values())
    with TestClient(make_app()) as c:
        sign_up(c)
        r = _api_claim(c, recomputed[owners[0]])
        assert r.status_code == 400 and r.json()["error"]["message"] == ONE_MESSAGE


def test_the_service_needs_only_the_hashes_and_forgives_typing(world, make_app):
    owner, code = sorted(world.codes().items())[0]
    (world.platform / "claim_codes.json").unlink()  # the operator's copy; the service never reads it
    hashes = json.loads((world.platform / "claim_code_hashes.json").read_text())
    assert code not in json.dumps(hashes)
    with TestClient(make_app()) as c:
        sign_up(c)
        r = _api_claim(c, " " + code.lower().replace("-", " ") + " ")
        assert r.status_code == 200 and r.json() == {"owner_id": owner}


def test_one_message_for_every_failure(world, make_app):
    (owner_a, code_a), (owner_b, code_b) = sorted(world.codes().items())[:2]
    with TestClient(make_app()) as alice, TestClient(make_app()) as bob:
        sign_up(alice)
        sign_up(bob)
        assert _api_claim(alice, code_a).status_code == 200
        unknown, used = _api_claim(bob, "AAAA-BBBB-CCCC-DDDD"), _api_claim(bob, code_a)
        assert unknown.status_code == used.status_code == 400
        assert unknown.json() == used.json() and unknown.json()["error"]["message"] == ONE_MESSAGE
        unknown_page, used_page = _page_claim(bob, "AAAA-BBBB-CCCC-DDDD"), _page_claim(bob, code_a)
        assert unknown_page.status_code == used_page.status_code == 400
        assert ONE_MESSAGE in unknown_page.text and ONE_MESSAGE in used_page.text
        assert _api_claim(bob, code_b).json() == {"owner_id": owner_b}


def test_wrong_codes_are_throttled_per_account_and_per_ip(world, make_app):
    owner, code = sorted(world.codes().items())[0]
    app = make_app(serve={"rate_claim": "3/minute", "rate_claim_ip": "5/minute", "trusted_proxies": ["testclient"]})
    with TestClient(app) as c:
        sign_up(c)
        assert [_api_claim(c, f"WRONG-{i}", ip="198.51.100.1").status_code for i in range(3)] == [400, 400, 400]
        blocked = _api_claim(c, code, ip="198.51.100.1")  # even the right code waits: no guessing around the limit
        assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
        assert blocked.json()["error"]["retry_after"] >= 1 and "for this account" in blocked.json()["error"]["message"]
        page = _page_claim(c, code)
        assert page.status_code == 429 and int(page.headers["Retry-After"]) >= 1 and "try again in" in page.text
        # Another account from the same address has its own budget, until the address's cap (5) is spent.
        c.post("/logout", data={"csrf_token": csrf_of(c)})
        sign_up(c)
        assert [_api_claim(c, f"WRONG-{i}", ip="198.51.100.1").status_code for i in range(3)] == [400, 400, 429]
        assert "from your address" in _api_claim(c, code, ip="198.51.100.1").json()["error"]["message"]
        # From another address, that account claims at once.
        assert _api_claim(c, code, ip="203.0.113.9").json() == {"owner_id": owner}
