"""The owners' pages, the arena and the operator views through the real app (real SQLite, real model)."""

from __future__ import annotations

import io
import json
import re

from fastapi.testclient import TestClient

from .conftest import MODEL_ID, csrf_of, make_admin, sign_up


def _claim(client, world, owner_id: str) -> None:
    r = client.post("/owners/claim", data={"code": world.codes()[owner_id], "csrf_token": csrf_of(client)}, follow_redirects=False)
    assert r.status_code == 303, r.text


def _two_owners(world) -> tuple[tuple[str, list[str]], tuple[str, list[str]]]:
    owners = sorted(world.included_posts().items())
    return owners[0], owners[1]


def test_a_second_user_cannot_see_or_act_on_another_owners_photos(world, make_app):
    (alice_owner, alice_posts), (bob_owner, _bob_posts) = _two_owners(world)
    app = make_app()
    with TestClient(app) as alice, TestClient(app) as bob, TestClient(app) as carol:
        for client in (alice, bob, carol):
            sign_up(client)
        _claim(alice, world, alice_owner)
        _claim(bob, world, bob_owner)
        post = alice_posts[0]
        assert alice.get(f"/owners/photos/{post}").status_code == 200
        assert alice.get(f"/owners/photos/{post}/image").status_code == 200
        # Bob is an owner too, but not of this photo; Carol is no owner at all. Both get 404, like a missing id.
        for client in (bob, carol):
            assert client.get(f"/owners/photos/{post}").status_code == 404
            assert client.get(f"/owners/photos/{post}/image").status_code == 404
            for action in ("opt-out", "delete"):
                r = client.post(f"/owners/photos/{post}/{action}", data={"csrf_token": csrf_of(client)}, follow_redirects=False)
                assert r.status_code == 404
            r = client.post(f"/api/owners/me/photos/{post}", json={"action": "delete"}, headers={"X-CSRF-Token": csrf_of(client)})
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        assert bob.get("/owners/photos/no-such-post").status_code == 404
        # Nothing was written on Alice's behalf, and Bob's page lists only Bob's photos.
        assert not any(e.get("post_id") == post and e["event_id"].startswith("owner-")
                       for e in map(json.loads, (world.platform / "events.jsonl").read_text().splitlines()))
        me = bob.get("/api/owners/me").json()
        assert me["owner_id"] == bob_owner and post not in {p["post_id"] for p in me["photos"]}
        # A used claim code cannot be claimed again.
        r = carol.post("/owners/claim", data={"code": world.codes()[alice_owner], "csrf_token": csrf_of(carol)})
        assert r.status_code == 400 and "not valid, or it has already been used" in r.text


def test_owner_flow_over_http(world, make_app):
    (owner, posts), _ = _two_owners(world)
    app = make_app()
    with TestClient(app) as client:
        sign_up(client)
        assert "Claim" in client.get("/owners").text
        _claim(client, world, owner)
        page = client.get("/owners").text
        assert posts[0] in page and MODEL_ID in page
        r = client.post(f"/api/owners/me/photos/{posts[0]}", json={"action": "opt_out"}, headers={"X-CSRF-Token": csrf_of(client)})
        assert r.status_code == 200 and r.json()["status"] == "pending"
        assert client.get("/api/owners/me").json()["requests"][0]["status"] == "pending"
        world.apply_events()
        req = client.get("/api/owners/me").json()["requests"][0]
        assert req["status"] == "applied" and req["applied_at"]
        export = client.get("/owners/export")
        assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
        assert export.json()["owner_id"] == owner
        # Was this photo used? by upload (multipart), page and API.
        data = world.image_path(posts[1]).read_bytes()
        r = client.post("/api/used", files={"image": ("mine.webp", data, "image/webp")}, headers={"X-CSRF-Token": csrf_of(client)})
        assert r.status_code == 200 and r.json()["answer"] == "yes" and r.json()["matches"][0]["post_id"] == posts[1]
        r = client.post("/api/used", files={"image": ("x.png", b"not an image", "image/png")}, headers={"X-CSRF-Token": csrf_of(client)})
        assert r.status_code == 415
        # A real photo is far larger than the API's 64 KiB body cap: uploads have their own cap.
        import io

        from PIL import Image as PILImage

        big = io.BytesIO()
        photo = PILImage.open(io.BytesIO(data)).convert("RGB")
        scale = max(1, round(700 / min(photo.size)))
        photo.resize((photo.width * scale, photo.height * scale)).save(big, "PNG", compress_level=0)
        assert big.tell() > 1_000_000
        r = client.post("/api/used", files={"image": ("big.png", big.getvalue(), "image/png")}, headers={"X-CSRF-Token": csrf_of(client)})
        assert r.status_code == 200 and r.json()["answer"] == "yes", r.text


def test_admin_views_and_retrain_due(world, make_app):
    (owner, posts), _ = _two_owners(world)
    app = make_app(retrain_deadline_days=0)
    with TestClient(app) as admin, TestClient(app) as user:
        admin_email = sign_up(admin)
        sign_up(user)
        make_admin(app, admin_email)
        assert user.get("/admin").status_code == 404
        assert user.get("/api/admin/overview").status_code == 404
        evals = world.home / "models" / MODEL_ID / "evals"
        evals.mkdir(parents=True)
        (evals / "compositional.json").write_text(json.dumps({"overall": 0.41, "paraphrase_gap": 0.07, "strict_overall": 0.2}))
        (evals / "policy-eval.json").write_text(json.dumps({"splits": {"test": {"overall_recall": 0.97, "false_refusal_rate": 0.02}}}))
        before = admin.get("/api/admin/overview").json()
        metrics = next(m for m in before["models"] if m["model_id"] == MODEL_ID)["metrics"]
        assert metrics["compositional.overall"] == 0.41 and metrics["policy.false_refusal_rate"] == 0.02
        model = next(m for m in before["models"] if m["model_id"] == MODEL_ID)
        assert model["retrain_due"] is False and model["revoked_since"] == 0 and model["posts_seen"] > 0
        assert before["versions"][0]["counts_by_reason"]["included"] == model["posts_seen"]

        from imagine.platform.schema import append_event

        append_event(world.platform / "events.jsonl", {"event_id": "adm-1", "ts": "2030-01-01T00:00:00Z", "type": "post_deleted",
                                                       "owner_id": owner, "post_id": posts[0]})
        pending = before["timing"]["counts"]["pending"]  # the demo platform's own events, not applied yet
        assert admin.get("/api/admin/overview").json()["timing"]["counts"]["pending"] == pending + 1
        report = world.apply_events()
        after = admin.get("/api/admin/overview").json()
        model = next(m for m in after["models"] if m["model_id"] == MODEL_ID)
        assert model["retrain_due"] is True and model["revoked_since"] == report.revoked == pending + 1
        assert after["timing"]["counts"] == {"pending": 0, "applied": pending + 1, "purged": 0}
        page = admin.get("/admin").text
        assert "retrain due" in page
        first = before["versions"][0]["version"]
        diff = admin.get(f"/api/admin/diff?a={first}&b={report.version}").json()
        assert posts[0] in diff["removed"] and diff["transitions"] == {"included -> revoked_by_event": pending + 1}
        assert posts[0] in admin.get(f"/admin/diff?a={first}&b={report.version}").text
        assert admin.get("/admin/diff?a=1&b=999").status_code == 400
        # Refusals are recorded by category for the trend table.
        r = admin.post("/api/v1/generations", json={"prompt": "a nude photo of a child", "n": 1}, headers={"X-CSRF-Token": csrf_of(admin)})
        assert r.status_code == 400 and r.json()["error"]["code"] == "content_policy_violation"
        refusals = admin.get("/api/admin/overview").json()["refusals_by_day"]
        assert sum(sum(day.values()) for day in refusals.values()) == 1
        assert admin.get("/admin/purge-times.png").headers["content-type"] == "image/png"


def test_arena_api_votes_and_rankings(world, make_app):
    app = make_app()
    with TestClient(app) as client:
        sign_up(client)
        headers = {"X-CSRF-Token": csrf_of(client)}
        assert client.get("/api/arena/results").json()["standings"] == []
        seen_orders = set()
        for _ in range(3):
            r = client.post("/api/arena/battles", json={"prompt": "a red circle above a blue car"}, headers=headers)
            assert r.status_code == 201, r.text
            battle = r.json()
            assert battle["left"] is None and battle["right"] is None  # names hidden until the vote
            image = client.get(battle["left_image_url"])
            assert image.status_code == 200 and image.headers["content-type"] == "image/png"
            voted = client.post(f"/api/arena/battles/{battle['id']}/vote", json={"outcome": "left"}, headers=headers).json()
            seen_orders.add((voted["left"], voted["right"]))
            again = client.post(f"/api/arena/battles/{battle['id']}/vote", json={"outcome": "right"}, headers=headers)
            assert again.status_code == 400
        results = client.get("/api/arena/results").json()
        assert results["votes"] == 3 and {s["contestant"] for s in results["standings"]} == {"ddim-2", "euler-3"}
        wins = {s["contestant"]: s["wins"] for s in results["standings"]}
        assert sum(wins.values()) == 3
        bad = client.post(f"/api/arena/battles/{battle['id']}/vote", json={"outcome": "draw"}, headers=headers)
        assert bad.status_code == 400
        assert client.get("/api/arena/results.png").content[:4] == b"\x89PNG"
    with TestClient(app) as other:
        sign_up(other)
        assert other.get(f"/api/arena/battles/{battle['id']}").status_code == 404


def test_arena_with_a_second_model(world, make_app, tiny_model_dir):
    contestants = [{"name": "served", "steps": 2, "sampler": "ddim"},
                   {"name": "other-model", "model": str(tiny_model_dir), "steps": 2, "sampler": "euler"}]
    app = make_app(arena_contestants=contestants)
    with TestClient(app) as client:
        sign_up(client)
        headers = {"X-CSRF-Token": csrf_of(client)}
        battle = client.post("/api/arena/battles", json={"prompt": "a blue square"}, headers=headers).json()
        for side in ("left_image_url", "right_image_url"):
            assert client.get(battle[side]).headers["content-type"] == "image/png"
        voted = client.post(f"/api/arena/battles/{battle['id']}/vote", json={"outcome": "tie"}, headers=headers).json()
        assert {voted["left"], voted["right"]} == {"served", "other-model"}
        gallery = client.get("/api/v1/gallery").json()["images"]
        assert {img["params"].get("sampler") for img in gallery} == {"ddim", "euler"}
        # Both sides were ordinary jobs on the worker's queue (two generators, so two batched calls),
        # the other model's as a second guarded generator registered at start-up.
        jobs = client.get("/api/v1/jobs").json()
        assert sorted(j["params"].get("generator", "default") for j in jobs) == ["arena:other-model", "default"]
        assert all(j["status"] == "succeeded" for j in jobs)
        assert re.search(r"^imagine_batch_requests_sum 2\.0$", client.get("/metrics").text, re.M)
        # The policy applies to the other model's side too.
        r = client.post("/api/arena/battles", json={"prompt": "a nude photo of a child"}, headers=headers)
        assert r.status_code == 400 and r.json()["error"]["code"] == "content_policy_violation"
