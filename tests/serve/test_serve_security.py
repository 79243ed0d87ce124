"""Security: object-level authorization, brute-force slowing, CSRF, sessions, cookies, password storage."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from imagine.db.models import User, WebSession

from .conftest import bearer, csrf_of, new_key, sign_up

GEN = {"prompt": "a green square", "n": 1, "steps": 2, "seed": 3}


def test_other_users_images_and_jobs_are_404(client):
    sign_up(client)
    alice = new_key(client)
    image = client.post("/api/v1/generations", json=GEN, headers=bearer(alice)).json()["images"][0]
    job_id = image["job_id"]
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    sign_up(client)
    bob = new_key(client)
    for method, url in [("GET", f"/api/v1/images/{image['id']}"), ("GET", f"/api/v1/images/{image['id']}/file"),
                        ("DELETE", f"/api/v1/images/{image['id']}"), ("GET", f"/api/v1/jobs/{job_id}"),
                        ("GET", f"/api/v1/jobs/{job_id}/events"), ("DELETE", f"/api/v1/jobs/{job_id}"),
                        ("GET", f"/api/v1/gallery?before={image['id']}")]:
        r = client.request(method, url, headers=bearer(bob))
        assert r.status_code == 404, (method, url, r.status_code)
        assert r.json()["error"]["code"] == "not_found"
    # the web delete form too, with a valid CSRF token
    r = client.post(f"/gallery/{image['id']}/delete", data={"csrf_token": csrf_of(client)},
                    headers={"Accept": "text/html"})
    assert r.status_code == 404
    assert client.get(f"/api/v1/images/{image['id']}", headers=bearer(alice)).status_code == 200
    assert client.get("/api/v1/gallery", headers=bearer(bob)).json()["images"] == []


def test_brute_force_login_is_slowed_without_revealing_accounts(app_factory):
    with TestClient(app_factory(rate_login="3/minute")) as c:
        email = sign_up(c)
        c.post("/logout", data={"csrf_token": csrf_of(c)})
        unknown = c.post("/login", data={"email": "nobody@example.org", "password": "x" * 9,
                                         "csrf_token": csrf_of(c)})
        wrong = [c.post("/login", data={"email": email, "password": f"guess-{i}", "csrf_token": csrf_of(c)})
                 for i in range(3)]
        assert all(r.status_code == 401 for r in wrong)
        # same answer for an unknown account as for a wrong password (no enumeration)
        assert unknown.status_code == 401 and "e-mail or the password is wrong" in unknown.text
        assert "e-mail or the password is wrong" in wrong[0].text
        blocked = c.post("/login", data={"email": email, "password": "correct horse battery",
                                         "csrf_token": csrf_of(c)})
        assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
        assert "Too many failed log-ins" in blocked.text


def test_csrf_is_required_on_forms_and_cookie_api_calls(client):
    sign_up(client)
    r = client.post("/keys", data={"name": "x", "csrf_token": "forged"}, headers={"Accept": "text/html"})
    assert r.status_code == 403
    r = client.post("/keys", data={"name": "x"})
    assert r.status_code in (400, 403)
    r = client.post("/api/v1/keys", json={"name": "x"})  # cookie session, no X-CSRF-Token
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    r = client.post("/logout", data={"csrf_token": "nope"})
    assert r.status_code == 403
    assert client.post("/api/v1/keys", json={"name": "x"}, headers={"X-CSRF-Token": csrf_of(client)}).status_code == 201


def test_login_rotates_session_and_sets_hardened_cookies(client):
    email = sign_up(client)
    first = client.cookies.get("imagine_session")
    r = client.post("/login", data={"email": email, "password": "correct horse battery", "csrf_token": csrf_of(client)},
                    follow_redirects=False)
    assert r.status_code == 303
    set_cookie = ", ".join(r.headers.get_list("set-cookie"))
    assert "imagine_session=" in set_cookie and "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie.replace("Lax", "lax")
    second = client.cookies.get("imagine_session")
    assert second != first and len(second) >= 43  # 256 bits, URL-safe base64
    with client.app.state.ctx.sessions() as db:
        hashes = db.scalars(select(WebSession.token_hash)).all()
        user = db.scalar(select(User).where(User.email == email))
    assert len(hashes) == 1 and first not in hashes and second not in hashes  # old one gone, only hashes stored
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert user.role == "user"
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert client.get("/api/v1/keys").status_code == 401


def test_secure_cookie_flag_is_configurable(app_factory):
    with TestClient(app_factory(cookie_secure=True), base_url="https://testserver") as c:
        r = c.get("/login")
        assert "Secure" in r.headers["set-cookie"]


def test_pages_need_login_and_send_security_headers(client):
    r = client.get("/gallery", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = client.get("/")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    r = client.post("/login", data={"email": "a@b.co", "password": "x", "csrf_token": csrf_of(client),
                                    "next": "//evil.example/"}, follow_redirects=False)
    assert r.status_code == 401  # wrong password; and a later success would never redirect off-site:
    from imagine.serve.routes.auth import _safe_next

    assert _safe_next("//evil.example/") == "/" and _safe_next("https://evil.example") == "/"
    assert _safe_next("/gallery") == "/gallery"
