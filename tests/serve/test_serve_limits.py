"""Limits that protect without locking others out, trusted proxies, password strength, strict bodies.

Different client addresses are real X-Forwarded-For values from a proxy the app is configured to trust
(`trusted_proxies=["testclient"]`: the TestClient's peer); the default (trust no one) is tested over a real
uvicorn server configured exactly as `imagine serve` configures it.
"""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest
from fastapi.testclient import TestClient

from .conftest import bearer, csrf_of, free_port, make_settings, new_key, sign_up

PASSWORD = "correct horse battery"


def _signup(c, email: str, password: str = PASSWORD, ip: str | None = None):
    headers = {"X-Forwarded-For": ip} if ip else {}
    return c.post("/signup", data={"email": email, "password": password, "csrf_token": csrf_of(c)}, headers=headers,
                  follow_redirects=False)


def _login(c, email: str, password: str, ip: str | None = None):
    headers = {"X-Forwarded-For": ip} if ip else {}
    return c.post("/login", data={"email": email, "password": password, "csrf_token": csrf_of(c)}, headers=headers,
                  follow_redirects=False)


def test_failed_signups_from_five_addresses_do_not_lock_signup_for_everyone(app_factory):
    with TestClient(app_factory(trusted_proxies=["testclient"])) as c:
        taken = sign_up(c)
        c.post("/logout", data={"csrf_token": csrf_of(c)})
        for i in range(5):
            r = _signup(c, taken, ip=f"198.51.100.{i + 1}")
            assert r.status_code == 409 and "already exists" in r.text
        # A new visitor from another address signs up at once.
        assert _signup(c, f"new-{uuid.uuid4().hex[:6]}@example.org", ip="203.0.113.7").status_code == 303


def test_signup_limit_is_per_pair_and_per_ip_and_says_sign_up(app_factory):
    with TestClient(app_factory(trusted_proxies=["testclient"], rate_login="2/minute", rate_signup_ip="3/minute")) as c:
        taken = sign_up(c)
        c.post("/logout", data={"csrf_token": csrf_of(c)})
        assert [_signup(c, taken, ip="198.51.100.1").status_code for _ in range(2)] == [409, 409]
        pair = _signup(c, taken, ip="198.51.100.1")
        assert pair.status_code == 429 and int(pair.headers["Retry-After"]) >= 1
        assert "sign-up attempts with this e-mail from your address" in pair.text and "log-in" not in pair.text
        other = sign_up(c)
        c.post("/logout", data={"csrf_token": csrf_of(c)})
        assert _signup(c, other, ip="198.51.100.1").status_code == 409
        per_ip = _signup(c, other, ip="198.51.100.1")
        assert per_ip.status_code == 429 and "Too many failed sign-ups from your address" in per_ip.text
        assert int(per_ip.headers["Retry-After"]) >= 1
        # Other addresses are not affected.
        assert _signup(c, f"n-{uuid.uuid4().hex[:6]}@example.org", ip="198.51.100.2").status_code == 303


def test_a_victims_account_cannot_be_locked_from_a_few_addresses(app_factory):
    with TestClient(app_factory(trusted_proxies=["testclient"], rate_login="5/minute", rate_login_ip="50/minute")) as c:
        victim = sign_up(c)
        c.post("/logout", data={"csrf_token": csrf_of(c)})
        for attacker in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
            assert all(_login(c, victim, f"guess-{i}", ip=attacker).status_code == 401 for i in range(5))
            blocked = _login(c, victim, "guess-x", ip=attacker)
            assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
            assert "Too many failed log-ins for this account from your address" in blocked.text
        assert _login(c, victim, PASSWORD, ip="203.0.113.50").status_code == 303


def test_one_address_cannot_try_many_accounts(app_factory):
    with TestClient(app_factory(trusted_proxies=["testclient"], rate_login_ip="4/minute")) as c:
        codes = [_login(c, f"a{i}@example.org", "whatever-1", ip="192.0.2.9").status_code for i in range(5)]
        assert codes == [401, 401, 401, 401, 429]
        assert _login(c, "a9@example.org", "whatever-1", ip="192.0.2.10").status_code == 401


def _run_like_imagine_serve(settings):  # noqa: ANN001, ANN202
    """The app under uvicorn exactly as `imagine serve` configures it, on a free loopback port."""
    import uvicorn

    from imagine.serve.app import create_app
    from imagine.serve.server import uvicorn_config

    server = uvicorn.Server(uvicorn_config(create_app(settings, limiter_namespace=f"t-{uuid.uuid4().hex}"), settings,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    return server, thread


@pytest.mark.parametrize("trusted, blocked", [([], True), (["127.0.0.1"], False)])
def test_x_forwarded_for_is_believed_only_from_configured_proxies(tmp_path, tiny_model_dir, trusted, blocked):
    """Loopback included: by default a client rotating X-Forwarded-For still fills its one per-IP bucket."""
    settings = make_settings(tmp_path / "var", tiny_model_dir, host="127.0.0.1", port=free_port(),
                             rate_login_ip="3/minute", trusted_proxies=trusted)
    server, thread = _run_like_imagine_serve(settings)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{settings.serve.port}") as c:
            codes = [_login(c, f"x{i}@example.org", "whatever-1", ip=f"10.9.8.{i}").status_code for i in range(4)]
    finally:
        server.should_exit = True
        thread.join(15)
    assert codes == ([401, 401, 401, 429] if blocked else [401, 401, 401, 401])


@pytest.mark.parametrize("password", ["password", "12345678", "qwertyuiop"])
def test_weak_passwords_are_refused_with_a_clear_message(client, password):
    r = _signup(client, f"w-{uuid.uuid4().hex[:6]}@example.org", password)
    assert r.status_code == 400 and "too easy to guess" in r.text


def test_every_429_carries_retry_after(app_factory):
    """(The claim routes' 429s are tested with a real platform export in tests/owners/test_owners_claims.py.)"""
    app = app_factory(rate_user="1/minute", rate_login="1/minute", rate_signup_ip="1/minute", rate_upload="1/minute")
    gen = {"prompt": "a green square", "n": 1, "steps": 2, "seed": 1}
    with TestClient(app) as c:
        email = sign_up(c)
        key = new_key(c)
        refused = {}
        assert c.post("/api/v1/generations", json=gen, headers=bearer(key)).status_code == 200
        refused["native API"] = c.post("/api/v1/generations", json=gen, headers=bearer(key))
        refused["jobs API"] = c.post("/api/v1/jobs", json=gen, headers=bearer(key))
        refused["OpenAI API"] = c.post("/v1/images/generations", json={"prompt": "a green square"}, headers=bearer(key))
        h = {"X-CSRF-Token": csrf_of(c)}
        c.post("/api/used", files={"image": ("x.png", b"x", "image/png")}, headers=h)
        refused["used API"] = c.post("/api/used", files={"image": ("x.png", b"x", "image/png")}, headers=h)
        refused["used page"] = c.post("/used", data={"csrf_token": csrf_of(c)},
                                      files={"image": ("x.png", b"x", "image/png")}, headers={"Accept": "text/html"})
        c.post("/logout", data={"csrf_token": csrf_of(c)})
        _login(c, email, "wrong-password-1")
        refused["login page"] = _login(c, email, "wrong-password-2")
        _signup(c, email)
        refused["sign-up page"] = _signup(c, email)
    for where, r in refused.items():
        assert r.status_code == 429, (where, r.status_code, r.text[:200])
        assert int(r.headers["Retry-After"]) >= 1, where
        if r.headers["content-type"].startswith("application/json"):
            assert r.json()["error"]["code"] == "rate_limited" and r.json()["error"]["retry_after"] >= 1, where
        else:
            assert "try again in" in r.text, where


@pytest.mark.parametrize("path", ["/api/v1/generations", "/api/v1/jobs", "/v1/images/generations"])
@pytest.mark.parametrize("value", [True, "2", 2.0, [2]])
def test_request_bodies_are_strict(client, user_key, path, value):
    r = client.post(path, json={"prompt": "a green square", "n": value}, headers=bearer(user_key))
    assert r.status_code == 400, (value, r.text)
    err = r.json()["error"]
    assert err["code"] == "invalid_request" and err["param"] == "n" and err["type"] == "invalid_request_error"


def test_nul_in_an_arena_prompt_is_the_same_error_as_everywhere(client, user_key):
    native = client.post("/api/v1/generations", json={"prompt": "a red\x00 car", "n": 1}, headers=bearer(user_key))
    arena = client.post("/api/arena/battles", json={"prompt": "a red\x00 car"}, headers=bearer(user_key))
    assert native.status_code == arena.status_code == 400
    assert native.json()["error"]["code"] == arena.json()["error"]["code"] == "control_characters"
    page = client.post("/arena", data={"prompt": "a red\x00 car", "csrf_token": csrf_of(client)},
                       headers={"Accept": "text/html"})
    assert page.status_code == 400 and "control characters" in page.text
